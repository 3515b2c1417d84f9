"""Issue 12 §1: every write path refuses a name the rule refuses, with one line naming the field and
where it came from, exit 2, and nothing written. Each of these was accepted on main (ffe142f)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import HOSTILE, HOSTILE_TEXT, HOSTILE_TOKENS, SAMPLE, one_error_line, params

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]
TEMPLATES = Path(__file__).parents[2] / "rack_templates"
H100 = (TEMPLATES / "h100-4node-air.yaml").read_text()
POD = (TEMPLATES / "h100-pod-2rack-ib.yaml").read_text()


def _refused(result: Any, before: dict[str, int], counts: Counts) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert counts() == before
    return one_error_line(result)


@pytest.mark.parametrize("name", params(HOSTILE))
def test_rack_create_refuses_a_hostile_rack_name(cli: Cli, row_counts: Counts, name: str) -> None:
    before = row_counts()
    line = _refused(cli("rack", "create", "-t", "h100-4node-air", "-s", "fra1", "--", name), before, row_counts)
    assert line.startswith("error: rack name ") and " refused: " in line


@pytest.mark.parametrize("name", params(HOSTILE))
def test_site_add_refuses_a_hostile_site_name(cli: Cli, row_counts: Counts, name: str) -> None:
    before = row_counts()
    assert _refused(cli("site", "add", "--", name), before, row_counts).startswith("error: site name ")


@pytest.mark.parametrize("text", params(HOSTILE_TEXT))
def test_site_add_refuses_a_description_with_control_characters(cli: Cli, row_counts: Counts, text: str) -> None:
    before = row_counts()
    line = _refused(cli("site", "add", "ams2", "--description", text), before, row_counts)
    assert line.startswith("error: --description ")


def test_free_text_keeps_spaces_punctuation_and_accents(cli: Cli) -> None:
    result = cli("site", "add", "ams2", "--description", "Equinix AM5, cage 2 — 'north' (Zürich's twin)")
    assert result.exit_code == 0, result.stderr


# Where a template writes a name, with the text it holds in the shipped template.
TEMPLATE_NAMES = {
    "device name": (H100, '  - name: "gpu-{rack}-u{u:02d}"\n', "  - name: {}\n", "devices.4.name"),
    "rack of a pod": (POD, '  - {name: "{pod}a"}\n', "  - {{name: {}}}\n", "racks.0.name"),
    "profile": (H100, "  h100-inference:\n", "  {}:\n", "profiles."),
    "VLAN name": (H100, "tenant: 100", "{}: 100", ".extra.vlans."),
    "bond": (H100, "{role: gpu-node, name: bond0,", "{{role: gpu-node, name: {},", "bonds.0.name"),
    "feed": (H100, "    - {name: B, voltage", "    - {{name: {}, voltage", "rack.feeds.1.name"),
    "platform": (H100, "platform: eos", "platform: {}", ".platform"),
}
# Every attack on the device name (rendered while building), a sample on every other place.
TEMPLATE_CASES = [("device name", n) for n in HOSTILE if n and "/" not in n] + [
    (where, name) for where in TEMPLATE_NAMES if where != "device name" for name in SAMPLE
]


@pytest.mark.parametrize(("where", "name"), TEMPLATE_CASES, ids=[f"{w}-{n!a}"[:50] for w, n in TEMPLATE_CASES])
def test_a_template_with_a_hostile_name_is_refused_at_its_line(
    cli: Cli, row_counts: Counts, tmp_path: Path, where: str, name: str
) -> None:
    text, old, new, field = TEMPLATE_NAMES[where]
    assert old in text, old
    template = tmp_path / "hostile.yaml"
    template.write_text(text.replace(old, new.format(json.dumps(name)), 1))
    before = row_counts()
    line = _refused(cli("rack", "create", "r20", "-t", str(template), "-s", "fra1"), before, row_counts)
    assert line.startswith(f"error: {template}:") and field in line, line
    # The rule refuses it, or (for a value longer than the field can be) the template's schema does.
    assert " refused: " in line or "' is too long" in line, line


def test_a_profile_description_with_control_characters_is_refused(cli: Cli, row_counts: Counts, tmp_path: Path) -> None:
    old = "    description: vLLM serving on 8x H100 with the pinned 570 driver branch\n"
    assert old in H100
    template = tmp_path / "hostile.yaml"
    before = row_counts()
    for text in HOSTILE_TEXT:
        template.write_text(H100.replace(old, f"    description: {json.dumps(text)}\n", 1))
        line = _refused(cli("rack", "create", "r20", "-t", str(template), "-s", "fra1"), before, row_counts)
        assert "field 'profiles.h100-inference.description'" in line


@pytest.mark.parametrize("option", ["--serial", "--asset-tag", "--mgmt-username"])
def test_device_set_refuses_hostile_identifiers(r12: Cli, row_counts: Counts, option: str) -> None:
    before = row_counts()
    for value in (v for v in HOSTILE_TOKENS if v.strip()):
        line = _refused(r12("device", "set", "gpu-r12-u03", f"{option}={value}"), before, row_counts)
        assert line.startswith(f"error: {option} "), value


def test_device_set_refuses_a_reason_with_control_characters(r12: Cli, row_counts: Counts) -> None:
    before = row_counts()
    for text in HOSTILE_TEXT:
        line = _refused(r12("device", "set", "gpu-r12-u03", "--state", "racked", "--reason", text), before, row_counts)
        assert line.startswith("error: --reason "), text


def test_device_set_refuses_a_management_address_that_is_not_an_address(r12: Cli, row_counts: Counts) -> None:
    before = row_counts()
    for value in ["bmc;reboot", "$(id)", "10.0.0.1 -oProxyCommand=x", "-bmc", "a\nb", "bmc..x", "../../x"]:
        line = _refused(r12("device", "set", "gpu-r12-u03", f"--mgmt-address={value}"), before, row_counts)
        assert "--mgmt-address" in line, value


@pytest.mark.parametrize("column", ["serial", "asset_tag", "bmc_username"])
def test_csv_import_refuses_hostile_identifiers_naming_the_row(
    r12: Cli, row_counts: Counts, tmp_path: Path, column: str
) -> None:
    sheet = tmp_path / "floor.csv"
    before = row_counts()
    for value in (v for v in HOSTILE_TOKENS if v.strip()):
        with sheet.open("w", newline="") as out:
            csv.writer(out).writerows([["name", column], ["gpu-r12-u03", "SN-OK"], ["gpu-r12-u11", value]])
        result = r12("import", "csv", str(sheet))
        assert result.exit_code == 2 and row_counts() == before, value
        # The CSV import lists every bad row, then says nothing was imported.
        assert result.stderr.startswith(f"error: {sheet}, row 3, field '{column}': "), value
        assert result.stderr.splitlines()[-1] == "1 bad row(s): nothing was imported", value


DEVICE_TYPE = "manufacturer: Acme\nmodel: Box\nslug: {slug}\ninterfaces:\n  - {{name: {port}, type: 1000base-t}}\n"


@pytest.mark.parametrize(("part", "line_number"), [("slug", 3), ("port", 5)])
def test_devicetype_import_refuses_hostile_slugs_and_port_names(
    cli: Cli, row_counts: Counts, tmp_path: Path, part: str, line_number: int
) -> None:
    path = tmp_path / "acme.yaml"
    before = row_counts()
    for name in (n for n in HOSTILE if n.strip()):
        path.write_text(DEVICE_TYPE.format(**{"slug": "acme-box", "port": "eth0", part: json.dumps(name)}))
        line = _refused(cli("devicetype", "import", str(path)), before, row_counts)
        assert line.startswith(f"error: {path}:{line_number}, field "), (name, line)


def test_devicetype_import_refuses_a_power_port_with_a_space_but_takes_psu_bays_that_have_one(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "dgx.yaml"
    path.write_text("manufacturer: Nvidia\nmodel: DGX\nslug: dgx\npower-ports:\n  - {name: Power Supply 1}\n")
    line = one_error_line(cli("devicetype", "import", str(path)))
    assert line.startswith(f"error: {path}:5, field 'power-ports.0.name': ") and "' ' (U+0020 SPACE)" in line
    path.write_text(
        "manufacturer: Nvidia\nmodel: DGX\nslug: dgx\nmodule-bays:\n  - {name: PSU 1}\n  - {name: Riser 1}\n"
    )
    result = cli("devicetype", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert "power ports taken from PSU module bays: PSU 1 as PSU-1" in result.json()[0]["notes"]
