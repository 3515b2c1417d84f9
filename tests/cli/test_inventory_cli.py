"""The inventory commands of issue 2, run in-process: one happy and one error path each, exit codes,
`--json` shapes, and one-line errors that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rackctl.inventory.db import redact_url
from template_mutations import edit

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]
DATA = Path(__file__).parents[1] / "data"


def _one_error_line(result: Any) -> str:
    """The error a refused command printed: exactly one line (plus an optional hint)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint: ")), result.stderr
    return lines[0]


# init and info


def test_init_creates_an_empty_inventory_and_can_run_again(cli: Cli, empty_db_url: str) -> None:
    first = cli("--db", empty_db_url, "init")
    assert first.exit_code == 0, first.stderr
    assert f"inventory ready at {redact_url(empty_db_url)} (schema " in first.stdout
    assert "device types: 9 shipped types imported" in first.stdout
    again = cli("--db", empty_db_url, "init")  # upgrades nothing, re-imports the shipped types
    assert again.exit_code == 0, again.stderr
    info = cli("--db", empty_db_url, "info", "--json").json()
    assert info["schema"] == info["schema_head"] and info["device_types"] == 9
    assert (info["sites"], info["racks"], info["devices"]) == (0, 0, 0)


def test_init_without_device_types(cli: Cli, empty_db_url: str) -> None:
    assert cli("--db", empty_db_url, "init", "--no-devicetypes").exit_code == 0
    assert cli("--db", empty_db_url, "info", "--json").json()["device_types"] == 0


def test_init_refuses_a_database_it_cannot_reach(cli: Cli) -> None:
    result = cli("--db", "postgresql+psycopg://rackctl:s3cret-pw@127.0.0.1:1/inventory", "init")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert line.startswith("error: cannot open the inventory at postgresql+psycopg://rackctl:***@127.0.0.1:1/")
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_info_names_the_database_from_rackctl_db_url(cli: Cli, db_url: str) -> None:
    result = cli("info", "--json")
    assert result.exit_code == 0, result.stderr
    info = result.json()
    assert info["database"] == redact_url(db_url)
    assert info["config"] == "defaults" and info["schema"] == info["schema_head"]
    assert (info["sites"], info["device_types"]) == (1, 9)
    table = cli("info")
    assert table.exit_code == 0 and redact_url(db_url) in table.stdout


def test_info_reads_the_config_file(cli: Cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "no-config.toml"  # where the fixture points RACKCTL_CONFIG
    config.write_text(f'db_url = "{db_url}"\nworkers = 8\nstate_dir = "{tmp_path / "state-from-file"}"\n')
    monkeypatch.delenv("RACKCTL_DB_URL")
    monkeypatch.delenv("RACKCTL_STATE_DIR")
    info = cli("info", "--json").json()
    assert info["config"] == str(config)
    assert info["database"] == redact_url(db_url) and info["sites"] == 1
    assert info["state_dir"] == str(tmp_path / "state-from-file")


def test_info_on_an_empty_database_says_to_init(cli: Cli, empty_db_url: str) -> None:
    result = cli("--db", empty_db_url, "info")
    assert result.exit_code == 0
    assert "no inventory yet: run 'rackctl init'" in result.stderr
    assert cli("--db", empty_db_url, "info", "--json").json()["schema"] is None


def test_a_bad_config_file_is_one_line_and_exit_2(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "no-config.toml").write_text("workers = -4\n")
    result = cli("info")
    assert result.exit_code == 2
    assert _one_error_line(result) == f"error: {tmp_path / 'no-config.toml'}: 'workers' must not be negative"


def test_commands_refuse_a_database_without_a_schema(cli: Cli, empty_db_url: str) -> None:
    result = cli("--db", empty_db_url, "rack", "list")
    assert result.exit_code == 2
    assert _one_error_line(result) == f"error: no inventory at {redact_url(empty_db_url)}"
    assert "run 'rackctl init' first" in result.stderr


# sites


def test_site_add_and_list(cli: Cli) -> None:
    added = cli("site", "add", "ams2", "--description", "cage 4, hall B")
    assert added.exit_code == 0 and "site ams2 added" in added.stdout
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "ams2").exit_code == 0
    sites = cli("site", "list", "--json").json()
    assert sites == [
        {"name": "ams2", "description": "cage 4, hall B", "racks": ["r12"]},
        {"name": "fra1", "description": "test site", "racks": []},
    ]
    table = cli("site", "list")
    assert table.exit_code == 0 and "cage 4, hall B" in table.stdout


def test_site_add_refuses_a_duplicate(cli: Cli, row_counts: Counts) -> None:
    before = row_counts()
    result = cli("site", "add", "fra1")
    assert result.exit_code == 2
    assert _one_error_line(result) == "error: site 'fra1' already exists"
    assert row_counts() == before


# racks


def test_rack_create_list_and_show(cli: Cli) -> None:
    created = cli("rack", "create", "p1", "--template", "h100-pod-2rack-ib", "--site", "fra1", "--json")
    assert created.exit_code == 0, created.stderr
    assert created.json() == {"template": "h100-pod-2rack-ib", "racks": ["p1a", "p1b"], "devices": 26}
    plain = cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    assert plain.stdout.strip() == "created r12 from h100-4node-air: 12 devices"
    racks = {r["name"]: r for r in cli("rack", "list", "--json").json()}
    assert list(racks) == ["p1a", "p1b", "r12"]
    assert racks["r12"] == {
        "name": "r12",
        "site": "fra1",
        "u_height": 42,
        "devices": 12,
        "draw_kw": 42.14,
        "power_capacity_kw": 50.0,
        "cooling": "air",
        "cooling_limit_kw": 45.0,
        "template": "h100-4node-air",
        "pod": None,
    }
    assert racks["p1a"]["cooling"] == "rear-door" and racks["p1a"]["devices"] == 13 and racks["p1a"]["pod"] == "p1"


def test_rack_show_draws_the_elevation(cli: Cli) -> None:
    cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    shown = cli("rack", "show", "r12", "--json").json()
    units = {u["u"]: u for u in shown["units"]}
    assert [u["u"] for u in shown["units"]] == list(range(42, 0, -1))
    assert units[41]["device"] == "leaf-r12-a" and units[41]["draw_w"] == 580
    # an 8U node is named at its top unit (U10), its lower units continue it down to U3
    assert (units[10]["device"], units[10]["continued"], units[10]["draw_w"]) == ("gpu-r12-u03", False, 10200)
    assert (units[3]["device"], units[3]["continued"]) == ("gpu-r12-u03", True)
    assert units[1]["device"] is None and units[37]["device"] is None
    assert [(p["name"], p["feed"]) for p in shown["zero_u"]] == [
        ("pdu-r12-a1", "A"),
        ("pdu-r12-a2", "A"),
        ("pdu-r12-b1", "B"),
        ("pdu-r12-b2", "B"),
    ]
    assert sum(p["load_kw"] for p in shown["zero_u"]) == pytest.approx(42.14, abs=0.02)
    assert {(p["pdu"], p["phase"]) for p in shown["phases"]} >= {("pdu-r12-a1", "L1"), ("pdu-r12-b2", "L3")}
    table = cli("rack", "show", "r12")
    assert table.exit_code == 0
    assert "gpu-r12-u27" in table.stdout and "10.20 kW" in table.stdout and "0U (PDUs)" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rack", "show", "r99"), "error: no rack named 'r99'"),
        (("rack", "create", "r13", "-t", "h200-8node", "-s", "fra1"), "error: no rack template named 'h200-8node'"),
        (("rack", "create", "r13", "-t", "l40s-8node", "-s", "ams9"), "error: no site named 'ams9'"),
    ],
)
def test_rack_commands_refuse_unknown_names(cli: Cli, row_counts: Counts, args: tuple[str, ...], message: str) -> None:
    before = row_counts()
    result = cli(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert _one_error_line(result) == message
    assert row_counts() == before


def test_rack_create_refuses_a_bad_template_file_with_file_line_and_field(
    cli: Cli, tmp_path: Path, row_counts: Counts
) -> None:
    template = (Path(__file__).parents[2] / "rack_templates" / "l40s-8node.yaml").read_text()
    bad = tmp_path / "my rack.yaml"
    bad.write_text(template.replace("u: [3, 5, 7, 9, 11, 13, 15, 17]", "u: [3, 5, 7, 9, 11, 13, 15, 16]"))
    line = bad.read_text().splitlines().index("    u: [3, 5, 7, 9, 11, 13, 15, 16]") + 1
    before = row_counts()
    result = cli("rack", "create", "r13", "-t", str(bad), "-s", "fra1")
    assert result.exit_code == 2
    assert _one_error_line(result) == (
        f"error: {bad}:{line}, field 'devices.2.u': gpu-r13-u16 at U16 overlaps gpu-r13-u15 (U15-U16)"
    )
    assert row_counts() == before
    literal = tmp_path / "secret.yaml"
    literal.write_text(template.replace('credential: "env:RACKCTL_BMC_PASSWORD"', 'credential: "calvin123"'))
    result = cli("rack", "create", "r13", "-t", str(literal), "-s", "fra1")
    assert result.exit_code == 2 and "calvin123" not in result.stderr
    assert "field 'devices.2.management.credential': must be a secret reference" in _one_error_line(result)


@pytest.mark.parametrize("template", ["h100-4node-air", "l40s-8node", "h100-pod-2rack-ib"])
def test_every_shipped_template_creates_racks_that_validate_clean(cli: Cli, template: str) -> None:
    created = cli("rack", "create", "r20", "-t", template, "-s", "fra1", "--json")
    assert created.exit_code == 0, created.stderr
    targets = ",".join(f"@rack:{rack}" for rack in created.json()["racks"])
    result = cli("validate", targets, "--json")
    assert result.exit_code == 0, result.stdout
    assert result.json()["ok"] is True


H100 = (Path(__file__).parents[2] / "rack_templates" / "h100-4node-air.yaml").read_text()
BAD_TEMPLATES = [
    ("  u_height: 42\n", "  u_height: 42\n  colour: red\n", "rack.colour", "unknown key 'colour'"),
    ("  power_capacity_kw: 50\n", "  power_capacity_kw: fifty\n", "rack.power_capacity_kw", "'fifty' is not of type"),
    ("    type: hgx-h100-8gpu\n", "    type: hgx-b200\n", "devices.4.type", "unknown device type 'hgx-b200'"),
    ("    u: [3, 11, 19, 27]\n", "    u: [3, 11, 19, 40]\n", "devices.4.u", "needs U40-U47, rack r20 has 42U"),
    ("    u: [3, 11, 19, 27]\n", "    u: [3, 9, 19, 27]\n", "devices.4.u", "gpu-r20-u09 at U9 overlaps gpu-r20-u03"),
    ("role: pdu, feed: A, platform: raritan,", "role: pdu, feed: X, platform: raritan,", "devices.0.feed", "feed 'X'"),
    ("    profile: h100-inference\n", "    profile: h100-training\n", "devices.4.profile", "'h100-training' is not"),
    (
        '  - name: "gpu-{rack}-u{u:02d}"\n',
        '  - name: "gpu-{rack}-u{u:02x"\n',
        "devices.4.name",
        "unmatched '{' in format spec",
    ),
    ('  - name: "gpu-{rack}-u{u:02d}"\n', '  - name: "gpu-{rack}"\n', "devices.4.name", "'gpu-r20' is already taken"),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), BAD_TEMPLATES, ids=[b[2] for b in BAD_TEMPLATES])
def test_rack_create_refuses_bad_templates_in_one_line(
    cli: Cli, tmp_path: Path, row_counts: Counts, old: str, new: str, field: str, message: str
) -> None:
    text, line = edit(H100, old, new)
    path = tmp_path / "site templates" / "bad.yaml"
    path.parent.mkdir()
    path.write_text(text)
    before = row_counts()
    result = cli("rack", "create", "r20", "-t", str(path), "-s", "fra1")
    assert result.exit_code == 2 and result.stdout == ""
    error = _one_error_line(result)
    assert error.startswith(f"error: {path}:{line}, field '{field}': "), error
    assert message in error
    assert row_counts() == before


def test_rack_templates_lists_shipped_and_configured_ones(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = cli("rack", "templates", "--json").json()
    assert [t["name"] for t in listed] == ["h100-4node-air", "h100-pod-2rack-ib", "l40s-8node"]
    assert all(t["description"] and t["path"].endswith(".yaml") for t in listed)
    site_dir = tmp_path / "site-templates"
    site_dir.mkdir()
    (site_dir / "broken.yaml").write_text("name: broken\nrack: {}\ndevices: []\n")
    monkeypatch.setenv("RACKCTL_TEMPLATE_DIRS", str(site_dir))
    result = cli("rack", "templates")
    assert result.exit_code == 2
    assert _one_error_line(result).startswith(f"error: {site_dir / 'broken.yaml'}:")


# device types and profiles


def test_devicetype_import_and_list(cli: Cli) -> None:
    result = cli(
        "devicetype", "import", str(DATA / "devicetypes"), "--overrides", str(DATA / "devicetype-overrides.yaml"),
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    reports = {r["slug"]: r for r in result.json()}
    assert set(reports) == {"dell-poweredge-xe9680", "nvidia-qm9790", "raritan-px3-5864v", "supermicro-sys-821ge-tnhr"}
    assert set(reports["dell-poweredge-xe9680"]) == {"source", "slug", "action", "notes"}
    assert reports["supermicro-sys-821ge-tnhr"]["notes"] == ["not used: front-ports, inventory-items"]
    table = cli("devicetype", "import", str(DATA / "devicetypes" / "Nvidia"))
    assert table.exit_code == 0 and "updated" in table.stdout
    types = {t["slug"]: t for t in cli("devicetype", "list", "--json").json()}
    assert len(types) == 13
    assert types["dell-poweredge-xe9680"] | {"model": None} == {
        "slug": "dell-poweredge-xe9680",
        "manufacturer": "Dell",
        "model": None,
        "u_height": 6.0,
        "draw_w": 11500,
        "gpus": "8x H100-SXM5-80GB",
        "power_ports": 6,
        "interfaces": 6,
        "outlets": 0,
    }
    assert types["raritan-px3-5864v"]["outlets"] == 24
    assert "hgx-h100-8gpu" in cli("devicetype", "list").stdout


def test_devicetype_import_refuses_a_bad_file_whole(cli: Cli, tmp_path: Path, row_counts: Counts) -> None:
    (tmp_path / "a-good.yaml").write_text("manufacturer: Acme\nmodel: Box\nslug: acme-box\n")
    (tmp_path / "b-bad.yml").write_text("manufacturer: Acme\nmodel: Box 2\nu_height: 1\n")
    before = row_counts()
    result = cli("devicetype", "import", str(tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert _one_error_line(result) == f"error: {tmp_path / 'b-bad.yml'}:1, field 'slug': 'slug' is required"
    assert row_counts() == before
    missing = cli("devicetype", "import", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file or folder" in _one_error_line(missing)


def test_devicetype_list_needs_an_inventory(cli: Cli, empty_db_url: str) -> None:
    result = cli("--db", empty_db_url, "devicetype", "list", "--json")
    assert result.exit_code == 2 and result.stdout == ""


def test_profile_list_and_show(cli: Cli) -> None:
    cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    cli("rack", "create", "r13", "-t", "l40s-8node", "-s", "fra1")
    profiles = cli("profile", "list", "--json").json()
    assert [(p["name"], p["devices"]) for p in profiles] == [("h100-inference", 4), ("l40s-inference", 8)]
    shown = cli("profile", "show", "l40s-inference", "--json").json()
    assert shown["serving_runtime"] == "triton" and shown["sriov_vfs"] == 8 and "fabric_manager" not in shown
    assert shown["extra"]["burnin"] == {"dcgm_level": 3, "tokens_per_s": 900, "p95_latency_ms": 120}
    assert "570.133.20" in cli("profile", "show", "h100-inference").stdout
    assert "h100-inference" in cli("profile", "list").stdout


def test_profile_show_refuses_an_unknown_profile(cli: Cli) -> None:
    result = cli("profile", "show", "h200-inference")
    assert result.exit_code == 2
    assert _one_error_line(result) == "error: no profile named 'h200-inference'"
    assert "rackctl profile list" in result.stderr
