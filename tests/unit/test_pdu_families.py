"""The PDU families (driver OID maps) against the lab's walks, written separately from the MIBs,
and the small pure parts: outlet specs, OID columns."""

from __future__ import annotations

from typing import Any

import pytest

from rackctl.drivers import pdu_tables
from rackctl.drivers.pdu_families import Column, Switching, families, family_for, platforms
from rackctl.errors import Unsupported, ValidationError
from rackctl.inventory.platforms import check_platform
from rackctl.lab.pduwalks import WALKS, PduSpec, snmprec
from rackctl.services.pdu import parse_spec
from rackctl.types import DeviceRole, PowerAction

OUTLETS = (1, 2, 3, 36)


def _walk_oids(family: str) -> dict[str, str]:
    text = snmprec(PduSpec("pdu-x", family, OUTLETS, {1: "gpu-r12-u03 PSU1"}))
    return {line.split("|")[0]: line.split("|")[1] for line in text.splitlines()}


def _switching(family: str) -> Switching:
    switching = families()[family].outlets
    assert switching is not None
    return switching


def _row_oids(family: str, column: Column, number: int) -> str:
    """The OID of `column` for outlet `number` of unit 1 in the lab walk's index layout."""
    pattern = _switching(family).table.index
    index = {"unit": "1", "number": str(number), "_": "1"}
    row = str(number) if pattern == ("_",) else ".".join(index[p] for p in pattern)
    return f"{column.oid}.{row}" + (f".{column.suffix}" if column.suffix else "")


@pytest.mark.parametrize("family", sorted(WALKS))
def test_the_switching_and_metering_columns_are_in_the_lab_walk_of_its_mib(family: str) -> None:
    walk = _walk_oids(family)
    switching = _switching(family)
    outlet_current = families()[family].levels["outlet"].metrics["current_a"]
    columns = [switching.state, outlet_current, *(Column(oid) for oid, _ in switching.commands.values())]
    missing = [oid for c in columns for n in (1, 36) if (oid := _row_oids(family, c, n)) not in walk]
    assert missing == [], f"{family}: the driver reads OIDs its MIB walk lacks"
    phase = families()[family].levels["phase"]
    assert any(oid.startswith(phase.metrics["current_a"].oid + ".") for oid in walk)


@pytest.mark.parametrize("family", sorted(WALKS))
def test_walks_are_sorted_by_oid_and_switching_records_are_live(family: str) -> None:
    lines = snmprec(PduSpec("pdu-x", family, OUTLETS)).splitlines()
    keys = [tuple(int(p) for p in line.split("|")[0].split(".")) for line in lines]
    assert keys == sorted(keys)
    walk = _walk_oids(family)
    command = Column(_switching(family).commands[PowerAction.OFF][0])
    assert walk[_row_oids(family, command, 1)].endswith(":rackpdu")
    assert walk[_row_oids(family, _switching(family).state, 36)].endswith(":rackpdu")


def test_platforms_map_to_families_by_alias() -> None:
    assert family_for("Raritan").name == "raritan"
    assert family_for("sentry4").name == "servertech"
    assert family_for("geist").name == "vertiv"
    assert family_for("apc").mib.startswith("PowerNet-MIB rPDU2")
    with pytest.raises(Unsupported, match="no PDU family for platform 'eos'"):
        family_for("eos")
    assert "auto" in platforms() and "eaton" in platforms()


def test_each_switched_family_has_on_off_and_a_cycle_command() -> None:
    for family in families().values():
        if family.outlets is None:
            continue
        assert {a.value for a in family.outlets.commands} == {"on", "off", "cycle"}, family.name
        assert family.outlets.on_values.isdisjoint(family.outlets.off_values)


def test_a_column_keeps_only_its_sensor_type() -> None:
    column = Column("1.3.6.1.4.1.13742.6.5.2.4.1.4", suffix="1")
    assert column.row("1.1.2.1") == "1.1.2"
    assert column.row("1.1.2.5") is None  # another sensor type of the same pole


def test_rows_read_units_numbers_and_opaque_parts_of_an_index() -> None:
    sentry4 = families()["servertech"]
    walked = {"1.3.6.1.4.1.1718.4.1.4.3.1.3": [("1.1.2", 560), ("2.1.3", 384)]}
    rows = pdu_tables.rows(sentry4, sentry4.levels["line"], walked)
    assert [(r.unit, r.number, r.index) for r in rows] == [(1, 2, "1.1.2"), (2, 3, "2.1.3")]
    eaton = families()["eaton"]  # strapping index 0 is the first unit of a chain
    rows = pdu_tables.rows(eaton, eaton.levels["outlet"], {"1.3.6.1.4.1.534.6.6.7.6.4.1.3": [("0.7", 90)]})
    assert [(r.unit, r.number) for r in rows] == [(1, 7)]


@pytest.mark.parametrize(
    ("column", "raw", "digits", "expected"),
    [
        (Column("x", 0.1), 54, None, (5.4, "")),
        (Column("x", 0.1), -1, None, (None, "")),  # the MIBs' "not available"
        (Column("x", 0.1), "5.4", None, (None, "unreadable value '5.4'")),
        (Column("x", digits="d"), 7467, 3, (7.467, "")),
        (Column("x", digits="d"), 7467, 17, (None, "unusable decimal digits 17")),
        (Column("x", text=True), "16A", None, (16.0, "")),
    ],
)
def test_values_are_scaled_or_judged(column: Column, raw: Any, digits: Any, expected: tuple[Any, str]) -> None:
    assert pdu_tables.scaled(column, raw, digits) == expected


@pytest.mark.parametrize(
    ("role", "value", "stored"),
    [(DeviceRole.PDU, "Auto", "auto"), (DeviceRole.PDU, " sentry4 ", "sentry4"), (DeviceRole.LEAF, "eos", "eos")],
)
def test_platforms_are_checked_by_role(role: DeviceRole, value: str, stored: str) -> None:
    assert check_platform(role, value) == stored


@pytest.mark.parametrize(
    ("role", "value"),
    [
        (DeviceRole.PDU, "eos"),
        (DeviceRole.LEAF, "raritan"),
        (DeviceRole.GPU_NODE, "$(reboot)"),
        (DeviceRole.GPU_NODE, "a" * 40),
        (DeviceRole.PDU, "raritan\nx"),
    ],
)
def test_bad_platforms_are_refused(role: DeviceRole, value: str) -> None:
    with pytest.raises(ValidationError, match="--platform"):
        check_platform(role, value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("pdu-r12-a1", ("pdu-r12-a1", ())),
        ("pdu-r12-a1:25-27,30", ("pdu-r12-a1", (25, 26, 27, 30))),
        ("pdu-r12-a1,pdu-r12-b1:7", ("pdu-r12-a1,pdu-r12-b1", (7,))),
        ("@rack:r12", ("@rack:r12", ())),
        ("@rack:r12:1-2", ("@rack:r12", (1, 2))),
    ],
)
def test_outlet_specs(spec: str, expected: tuple[str, tuple[int, ...]]) -> None:
    assert parse_spec(spec) == expected


def test_outlet_numbers_start_at_one() -> None:
    with pytest.raises(ValidationError, match="outlet numbers start at 1"):
        parse_spec("pdu-r12-a1:0-2")


def test_an_apc_daisy_chain_is_read_unit_by_unit() -> None:
    """rPDU2 numbers rows across the chain; rPDU2PhaseStatusModule and ...Number say whose phase a row is."""
    apc = families()["apc"]
    base = "1.3.6.1.4.1.318.1.1.26.6.3.1"
    walked = {
        f"{base}.2": [("1", 1), ("2", 1), ("3", 2)],
        f"{base}.3": [("1", 1), ("2", 2), ("3", 1)],
        f"{base}.5": [("1", 54), ("2", 20), ("3", 33)],
    }
    meters = pdu_tables.meters(apc, "phase", walked)
    assert [(m.unit, m.number, m.current_a) for m in meters] == [(1, 1, 5.4), (1, 2, 2.0), (2, 1, 3.3)]
    assert meters[2].sources["current_a"] == f"{base}.5.3"


def test_raritan_chained_units_are_told_apart_by_pdu_id() -> None:
    """PDU2-MIB indexes every table by pduId first (measurementsOutletSensorValue.pduId.outletId.sensorType),
    and scales each value by the decimal digits of the same index."""
    raritan = families()["raritan"]
    current = raritan.levels["outlet"].metrics["current_a"]
    walked = {
        current.oid: [("1.3.1", 1234), ("1.3.4", 230), ("2.5.1", 500)],  # rmsCurrent(1), rmsVoltage(4)
        current.digits: [("1.3.1", 3), ("1.3.4", 0), ("2.5.1", 2)],
    }
    meters = pdu_tables.meters(raritan, "outlet", walked)
    assert [(m.unit, m.number, m.current_a, m.voltage_v) for m in meters] == [(1, 3, 1.234, 230), (2, 5, 5.0, None)]
    assert not any(m.problems for m in meters)
