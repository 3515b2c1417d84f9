"""The PDU families (driver OID maps) against the lab's walks, written separately from the MIBs,
and the small pure parts: outlet specs, OID columns."""

from __future__ import annotations

import pytest

from rackctl.drivers.pdu_families import Column, families, family_for
from rackctl.errors import Unsupported, ValidationError
from rackctl.lab.pduwalks import WALKS, PduSpec, snmprec
from rackctl.services.pdu import parse_spec

OUTLETS = (1, 2, 3, 36)


def _walk_oids(family: str) -> dict[str, str]:
    text = snmprec(PduSpec("pdu-x", family, OUTLETS, {1: "gpu-r12-u03 PSU1"}))
    return {line.split("|")[0]: line.split("|")[1] for line in text.splitlines()}


def _driver_oids(family: str) -> list[str]:
    fam = families()[family]
    columns = [fam.state, fam.control, *(c for part in fam.meters.values() for c in part.values())]
    columns += [fam.outlet_name] if fam.outlet_name else []
    oids = [c.at(n) for c in columns for n in (1, 3)]
    oids += [c.digits.replace("{n}", "1") for c in columns if c.digits]
    oids += list(fam.identity.values())
    if fam.total_power:
        oids.append(fam.total_power.oid)
    return oids


@pytest.mark.parametrize("family", sorted(WALKS))
def test_every_oid_the_driver_uses_is_in_the_lab_walk_of_its_mib(family: str) -> None:
    walk = _walk_oids(family)
    missing = [oid for oid in _driver_oids(family) if oid not in walk]
    assert missing == [], f"{family}: the driver reads OIDs its MIB walk lacks"


@pytest.mark.parametrize("family", sorted(WALKS))
def test_walks_are_sorted_by_oid_and_switching_records_are_live(family: str) -> None:
    lines = snmprec(PduSpec("pdu-x", family, OUTLETS)).splitlines()
    keys = [tuple(int(p) for p in line.split("|")[0].split(".")) for line in lines]
    assert keys == sorted(keys)
    walk = _walk_oids(family)
    assert walk[families()[family].control.at(1)].endswith(":rackpdu")
    assert walk[families()[family].state.at(36)].endswith(":rackpdu")


def test_platforms_map_to_families_by_alias() -> None:
    assert family_for("Raritan").name == "raritan"
    assert family_for("sentry4").name == "servertech"
    assert family_for("apc").mib.startswith("PowerNet-MIB rPDU2")
    with pytest.raises(Unsupported, match="no PDU family for platform 'eos'"):
        family_for("eos")


def test_each_family_has_on_off_and_its_own_cycle_command() -> None:
    for family in families().values():
        assert {a.value for a in family.commands} == {"on", "off", "cycle"}, family.name
        assert family.on_values.isdisjoint(family.off_values)


def test_a_column_finds_its_numbers_in_walked_oids() -> None:
    prefix, pattern = Column("1.3.6.1.4.1.13742.6.5.2.4.1.4.1.1.{n}.1").pattern()
    assert prefix == "1.3.6.1.4.1.13742.6.5.2.4.1.4.1.1"
    assert pattern.match(prefix + ".2.1").group(1) == "2"  # type: ignore[union-attr]
    assert pattern.match(prefix + ".2.5") is None  # another sensor type of the same pole


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
