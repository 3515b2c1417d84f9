"""`devicetype import` on uneven NetBox devicetype-library files (tests/data/devicetypes): what is
imported, what is reported, overrides, re-imports, and bad files refused whole."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from rackctl.errors import ValidationError
from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.devicetypes import FileReport, find_files, import_files, load_overrides
from rackctl.inventory.models import DeviceType
from rackctl.paths import data_dir
from rackctl.types import InterfaceKind

DATA = Path(__file__).parents[1] / "data"
LIBRARY = DATA / "devicetypes"
OVERRIDES = DATA / "devicetype-overrides.yaml"
Counts = Callable[[], dict[str, int]]


def _import(db: Database, paths: list[Path], overrides: Path | None = None) -> dict[str, FileReport]:
    with db.transaction() as session:
        reports = import_files(session, paths, load_overrides(overrides))
    return {r.slug: r for r in reports}


def _type(db: Database, slug: str) -> DeviceType:
    with db.transaction() as session:
        dtype = session.scalars(select(DeviceType).where(DeviceType.slug == slug)).one()
        for collection in (dtype.power_ports, dtype.outlets, dtype.interfaces, dtype.console_ports, dtype.module_bays):
            len(collection)  # load them before the session closes
        return dtype


def test_files_and_folders_yml_and_yaml_and_paths_with_spaces() -> None:
    found = find_files([LIBRARY])
    assert [p.relative_to(LIBRARY).as_posix() for p in found] == [
        "Dell Inc/poweredge-xe9680.yml",
        "Nvidia/qm9790.yaml",
        "Raritan/px3-5864v.yaml",
        "Supermicro/SYS-821GE-TNHR.yml",
    ]
    single = LIBRARY / "Dell Inc" / "poweredge-xe9680.yml"
    assert find_files([single, LIBRARY / "Nvidia"]) == [single, LIBRARY / "Nvidia" / "qm9790.yaml"]
    with pytest.raises(ValidationError, match="no such file or folder"):
        find_files([LIBRARY / "Arista"])


def test_reports_say_what_was_used_and_what_was_not(db: Database) -> None:
    reports = _import(db, [LIBRARY])
    assert {slug: r.action for slug, r in reports.items()} == dict.fromkeys(reports, "created")
    assert reports["raritan-px3-5864v"].notes == []
    assert reports["nvidia-qm9790"].notes == []
    assert reports["dell-poweredge-xe9680"].notes == [
        "not used: inventory-items",
        "power ports taken from PSU module bays: PSU1, PSU2, PSU3, PSU4, PSU5, PSU6",
        "speed unknown for interface type(s) virtual",
        "power ports carry no maximum_draw: give max_draw_w in an override",
    ]
    assert reports["supermicro-sys-821ge-tnhr"].notes == [
        "not used: front-ports, inventory-items",
        "no maximum_draw on PS5, PS6: the draw counts only the other ports"
        " (give power_ports or max_draw_w in an override)",
    ]
    assert reports["nvidia-qm9790"].source == str(LIBRARY / "Nvidia" / "qm9790.yaml")


def test_a_zero_u_pdu_keeps_its_outlets_phases_and_rating(db: Database) -> None:
    _import(db, [LIBRARY / "Raritan"])
    pdu = _type(db, "raritan-px3-5864v")
    assert (pdu.u_height, pdu.is_full_depth, pdu.rated_power_w) == (0.0, False, 22170)
    assert pdu.weight_kg == pytest.approx(21.6 * 0.45359237)  # the file gives pounds
    assert len(pdu.outlets) == 24
    assert [o.feed_leg for o in pdu.outlets[:6]] == ["A", "A", "B", "B", "C", "C"]
    assert {o.type for o in pdu.outlets} == {"iec-60320-c13", "iec-60320-c19"}
    assert {o.power_port for o in pdu.outlets} == {"Input"}
    assert [(p.name, p.maximum_draw_w) for p in pdu.power_ports] == [("Input", None)]
    assert [(i.name, i.kind, i.mgmt_only) for i in pdu.interfaces] == [
        ("ETH1", InterfaceKind.BMC, True),
        ("ETH2", InterfaceKind.BMC, True),
    ]


def test_an_infiniband_switch_typed_as_ethernet_is_fixed_by_its_override(db: Database) -> None:
    _import(db, [LIBRARY / "Nvidia"])
    switch = _type(db, "nvidia-qm9790")
    ports = [i for i in switch.interfaces if i.name.startswith("P")]
    assert len(ports) == 8 and {(i.type, i.kind, i.speed_mbps) for i in ports} == {
        ("400gbase-x-osfp", InterfaceKind.INFINIBAND, 400_000)
    }
    assert (switch.interfaces[0].name, switch.interfaces[0].kind) == ("mgmt0", InterfaceKind.BMC)
    assert [p.maximum_draw_w for p in switch.power_ports] == [None, None]
    assert switch.draw_w == 1720  # from x-rackctl max_draw_w
    assert switch.airflow == "rear-to-front"


def test_psus_only_as_module_bays_become_power_ports_drawn_from_the_overrides_file(db: Database) -> None:
    reports = _import(db, [LIBRARY], OVERRIDES)
    server = _type(db, "dell-poweredge-xe9680")
    assert [(p.name, p.maximum_draw_w) for p in server.power_ports] == [(f"PSU{n}", 2800) for n in range(1, 7)]
    assert [b.name for b in server.module_bays][-2:] == ["OCP NIC", "Riser 1"]
    assert (server.max_draw_w, server.draw_w, server.gpu_model, server.gpu_count) == (11500, 11500, "H100-SXM5-80GB", 8)
    assert "power ports carry no maximum_draw: give max_draw_w in an override" not in reports[server.slug].notes
    assert [c.name for c in server.console_ports] == ["Serial"]


def test_partly_rated_power_ports_are_completed_by_overrides(db: Database) -> None:
    without = _import(db, [LIBRARY / "Supermicro"])
    assert _type(db, "supermicro-sys-821ge-tnhr").draw_w == 12_000  # four of six PSUs rated
    assert any("PS5, PS6" in note for note in without["supermicro-sys-821ge-tnhr"].notes)
    with_overrides = _import(db, [LIBRARY / "Supermicro"], OVERRIDES)
    server = _type(db, "supermicro-sys-821ge-tnhr")
    assert with_overrides["supermicro-sys-821ge-tnhr"].action == "updated"
    assert server.draw_w == 18_000 and {p.allocated_draw_w for p in server.power_ports} == {2200}
    assert server.weight_kg == pytest.approx(166 * 0.45359237)
    kinds = {i.name: (i.kind, i.speed_mbps) for i in server.interfaces}
    assert kinds["ibp0"] == (InterfaceKind.INFINIBAND, 400_000)
    assert kinds["bond0"] == (InterfaceKind.BOND, None)
    assert kinds["eno1"] == (InterfaceKind.ETHERNET, 10_000)
    assert (server.gpu_model, server.gpu_count) == ("H100-SXM5-80GB", 8)


def test_an_overrides_file_wins_over_the_files_own_section(db: Database, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("nvidia-qm9790:\n  max_draw_w: 2000\n  interfaces:\n    P0.*: {speed_mbps: 200000}\n")
    _import(db, [LIBRARY / "Nvidia"], overrides)
    switch = _type(db, "nvidia-qm9790")
    assert switch.draw_w == 2000
    ports = {i.name: (i.kind, i.speed_mbps) for i in switch.interfaces}
    # the file's own `interfaces` override is replaced, not merged: P1.0 is Ethernet again
    assert ports["P0.0"] == (InterfaceKind.ETHERNET, 200_000)
    assert ports["P1.0"] == (InterfaceKind.ETHERNET, 400_000)


def test_reimport_updates_the_type_and_replaces_its_components(db: Database, tmp_path: Path) -> None:
    copy = tmp_path / "qm9790.yaml"
    shutil.copy(LIBRARY / "Nvidia" / "qm9790.yaml", copy)
    _import(db, [copy])
    text = copy.read_text().replace("  - {name: P3.1, type: 400gbase-x-osfp}\n", "")
    copy.write_text(text.replace("max_draw_w: 1720", "max_draw_w: 1650").replace("weight: 14.8", "weight: 15.1"))
    reports = _import(db, [copy])
    switch = _type(db, "nvidia-qm9790")
    assert reports["nvidia-qm9790"].action == "updated"
    assert (switch.draw_w, switch.weight_kg, len(switch.interfaces)) == (1650, 15.1, 8)
    with db.transaction() as session:
        assert len(session.scalars(select(DeviceType).where(DeviceType.slug == "nvidia-qm9790")).all()) == 1


def test_the_shipped_device_types_import_clean(db: Database) -> None:
    reports = _import(db, [data_dir("devicetypes")])  # the fixture imported them once already
    assert len(reports) == 9
    assert {r.action for r in reports.values()} == {"updated"}
    assert {slug: r.notes for slug, r in reports.items() if r.notes} == {}
    h100 = _type(db, "hgx-h100-8gpu")
    assert (h100.draw_w, h100.gpu_count, len(h100.power_ports)) == (10_200, 8, 6)
    pdu = _type(db, "pdu-3ph-415v-63a-36")
    assert (pdu.u_height, len(pdu.outlets), pdu.rated_power_w) == (0.0, 36, 45284)


def test_unknown_weight_units_and_repeated_names_are_reported(db: Database, tmp_path: Path) -> None:
    (tmp_path / "dgx.yaml").write_text(
        "manufacturer: Nvidia\nmodel: DGX A100\nslug: dgx-a100-test\nu_height: 6\nweight: 9\nweight_unit: stone\n"
        "console-ports:\n  - {name: RearVGA, type: other}\n  - {name: RearVGA, type: other}\n"
        "power-ports:\n  - {name: PSU1, maximum_draw: 1071}\n  - {name: PSU2, maximum_draw: 1071}\n"
    )
    report = _import(db, [tmp_path])["dgx-a100-test"]
    assert report.notes == [
        "weight unit 'stone' unknown: weight not used",
        "console port 'RearVGA' named twice: the second not used",
    ]
    dgx = _type(db, "dgx-a100-test")
    assert (dgx.weight_kg, dgx.draw_w, [c.name for c in dgx.console_ports]) == (None, 2142, ["RearVGA"])


GOOD = "manufacturer: Acme\nmodel: Box\nslug: acme-box\nu_height: 1\n"
BAD_FILES = [
    ("manufacturer: Acme\nmodel: Box\nslug: acme-box\ninterfaces:\n  - {name: eth0, type: [\n", 6, "malformed YAML"),
    ("manufacturer: Acme\nmodel: Box\nu_height: 1\n", 1, "'slug' is required"),
    ("manufacturer: Acme\nmodel: Box\nslug: '  '\n", 3, "'slug' is required"),
    ("manufacturer: Acme\nslug: acme-x\n", 1, "'model' is required"),
    ("- not a mapping\n", 1, "a device type file is a YAML mapping"),
    ("manufacturer: Acme\nmodel: Box\nslug: acme-x\nu_height: two\n", 4, "'u_height' must be a number, got 'two'"),
    ("manufacturer: Acme\nmodel: Box\nslug: acme-x\nu_height: 600\n", 4, "'u_height' must be between 0 and 60"),
    ("manufacturer: Acme\nmodel: Box\nslug: acme-x\ninterfaces: eth0\n", 4, "'interfaces' must be a list of mappings"),
    ("manufacturer: Acme\nmodel: Box\nslug: acme-x\npower-ports:\n  - {type: c14}\n", 4, "with a name"),
    (
        "manufacturer: Acme\nmodel: Box\nslug: acme-x\npower-outlets:\n  - name: '1'\n    type: {c13: yes}\n",
        6,
        "'type' must be a plain value, not a SourceDict",
    ),
    ("manufacturer: Acme\nmodel: Box\nslug: acme-x\nx-rackctl: {max_draw: 5}\n", 4, "unknown override 'max_draw'"),
    (
        "manufacturer: Acme\nmodel: Box\nslug: acme-x\nx-rackctl:\n  interfaces:\n    eth*: {kind: fibre}\n",
        6,
        "kind must be one of ethernet, infiniband, bmc, console, bond",
    ),
    (
        "manufacturer: Acme\nmodel: Box\nslug: acme-x\nx-rackctl: {max_draw_w: 10000000000000}\n",
        4,
        "'max_draw_w' must be between",
    ),
    (GOOD, 3, "slug 'acme-box' is also defined in"),  # the good file comes first, this one repeats its slug
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES, ids=[m for _, _, m in BAD_FILES])
def test_a_bad_file_refuses_the_whole_import(
    db: Database, row_counts: Counts, tmp_path: Path, text: str, line: int, message: str
) -> None:
    folder = tmp_path / "my library"
    shutil.copytree(LIBRARY, folder)
    (folder / "Acme").mkdir()
    (folder / "Acme" / "a-good.yaml").write_text(GOOD)
    (folder / "Acme" / "z bad.yml").write_text(text)
    before = row_counts()
    with pytest.raises(ValidationError) as caught:
        _import(db, [folder])
    assert caught.value.where.source == str(folder / "Acme" / "z bad.yml")
    assert caught.value.where.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{folder / 'Acme' / 'z bad.yml'}:{line}")
    assert row_counts() == before  # not even the good files before it


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- acme-box\n", 1, "an overrides file maps device-type slugs to fields"),
        ("acme-box: 5\n", 1, "overrides must be a mapping"),
        ("acme-box:\n  max_draw_w: 100\n  colour: red\n", 3, "unknown override 'colour'"),
        ("acme-box:\n  power_ports: [PSU1]\n", 2, "'power_ports' maps names to mappings of fields"),
        ("acme-box: {\n", 2, "malformed YAML"),
    ],
)
def test_a_bad_overrides_file_is_refused(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        devicetypes.load_overrides(path)
    assert (caught.value.where.source, caught.value.where.line) == (str(path), line)
    assert message in str(caught.value)


def test_a_supply_rating_comes_from_the_overrides(db: Database, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("nvidia-qm9790:\n  psu_rating_w: 2000\n")
    _import(db, [LIBRARY / "Nvidia"], overrides)
    assert _type(db, "nvidia-qm9790").psu_rating_w == 2000
    overrides.write_text("nvidia-qm9790:\n  psu_rating_w: lots\n")
    with pytest.raises(ValidationError, match="psu_rating_w"):
        _import(db, [LIBRARY / "Nvidia"], overrides)
