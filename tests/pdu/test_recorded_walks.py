"""The SNMP PDU driver against real walks of vendors' PDUs recorded by others (LibreNMS's test walks,
tests/data/pdu/walks with its PROVENANCE), each served by snmpsim as recorded. Expected values are
LibreNMS's own readings of the same walks (librenms-expected.json: sensor OID, divisor, computed value),
matched to rackctl's by the OID each value was read from; identity is LibreNMS's too. Nothing expected
here is computed by rackctl."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from rackctl.drivers.base import PduReadings
from rackctl.drivers.pdu_families import families
from rackctl.drivers.pdu_snmp import SnmpPdu
from rackctl.errors import CommandError
from rackctl.lab import processes, recorded, snmp
from rackctl.lab.plan import PDU_NET, free_loopback
from rackctl.services.pdu import PduTarget, read_meters
from rackctl.types import Endpoint, Secret

# LibreNMS sensor class -> rackctl metric
CLASSES = {
    "current": "current_a",
    "power": "power_w",
    "voltage": "voltage_v",
    "power_consumed": "energy_kwh",
    "power_factor": "power_factor",
}
# LibreNMS files some apparent-power objects under its "power" class; compared as what the MIB says.
APPARENT = (
    "1.3.6.1.4.1.13742.4.1.2.2.1.8",  # PDU-MIB outletApparentPower (VoltAmps)
    "1.3.6.1.4.1.318.1.1.15.3.4.4",  # PowerNet-MIB xPDUSystemOutputTotalApparentPower (0.1 kVA)
    "1.3.6.1.4.1.318.1.1.15.3.4.14.1.6",  # PowerNet-MIB xPDUSystemOutputApparentPower (0.1 kVA)
)
# PDU2-MIB powerFactor sensors have 2 decimal digits (0.98); LibreNMS shows them without (98).
PERCENT_PF = ("1.3.6.1.4.1.13742.6.5",)


@dataclass(frozen=True)
class Expect:
    """What a walk must give: the detected family, values matched with LibreNMS, points per level,
    and the LibreNMS sensors rackctl does not read (OID prefix: why)."""

    family: str
    matched: int
    levels: dict[str, int]
    units: int = 1
    unread: dict[str, str] = field(default_factory=dict)
    platform: str = "auto"


WALKS: dict[str, Expect] = {
    "apc_ap7900b": Expect("apc-rpdu", 3, {"unit": 1, "phase": 1}, platform="apc-rpdu"),
    "apc_ap8853": Expect("apc", 3, {"unit": 1, "phase": 1}),
    "apc_ap8959eu3": Expect("apc", 3, {"unit": 1, "phase": 1}),
    "apc_apdu9959eu3": Expect("apc", 3, {"unit": 1, "phase": 1}),
    "apc_isx-pdu": Expect("apc-isx", 17, {"unit": 1, "inlet": 3, "phase": 3}),
    "dell-rpdu": Expect("dell", 51, {"unit": 1, "phase": 1, "outlet": 24}),
    "eatonpdu_2": Expect("eaton", 51, {"inlet": 1, "outlet": 24}),
    "raritan-pdu": Expect("raritan-px1", 26, {"inlet": 1, "phase": 1, "outlet": 12}),
    "raritan-pdu_px2": Expect("raritan", 27, {"inlet": 1, "outlet": 12}),
    "sentry3": Expect("sentry3", 4, {"inlet": 2}, units=2),
    "sentry3_3phase": Expect("sentry3", 10, {"inlet": 4}),
    "sentry4": Expect("servertech", 13, {"inlet": 1, "line": 3, "phase": 3}),  # no st4BranchCurrent recorded
    "sentry4_switched8i": Expect("servertech", 10, {"inlet": 2, "line": 2, "phase": 2}, units=2),
    "vertiv-pdu_mg02e4w1": Expect("vertiv", 17, {"unit": 1, "line": 3, "phase": 3, "bank": 6}),
    "vertiv-pdu_mn03edr1": Expect("vertiv", 15, {"line": 3, "phase": 3, "bank": 6}),
}


RPDU2 = "1.3.6.1.4.1.318.1.1.26"  # PowerNet-MIB rPDU2 group


def _kept(walk: str, dropped: Sequence[str]) -> str:
    """The recorded walk without the rows under the given OIDs (a PDU that lacks those objects)."""
    text = (recorded.walks_dir() / "librenms" / f"{walk}.snmprec").read_text()
    prefixes = tuple(f"{oid}." for oid in dropped)
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(prefixes))


def _meter_columns(family: str) -> list[str]:
    return [c.oid for table in families()[family].levels.values() for c in table.metrics.values()]


# Recorded walks less some of their rows, for what no public recording shows on its own:
# an AP79xx whose firmware predates rPDU2 (the AP7900B answers both groups), and a switched PDU that
# meters nothing (the Eaton walk's outlet-state rows without any measured column).
# Recorded walks checked against values worked out by hand from the raw rows and the MIB's units (PROVENANCE).
BY_HAND = ("sentry3_switched",)
DERIVED = {
    "apc_ap7900b-rpdu-only": lambda: _kept("apc_ap7900b", [RPDU2]),
    "eatonpdu_2-unmetered": lambda: _kept("eatonpdu_2", _meter_columns("eaton")),
}


@dataclass(frozen=True)
class Recorded:
    address: str
    port: int

    def endpoint(self, walk: str, platform: str = "auto", **options: Any) -> Endpoint:
        return Endpoint(
            walk,
            self.address,
            self.port,
            "snmp",
            "",
            Secret(walk),
            options={"family": platform, "timeout": 2} | options,
        )


@pytest.fixture(scope="module")
def walks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """Every recorded walk, as recorded, from one snmpsim: the community names the walk."""
    folder = tmp_path_factory.mktemp("recorded-walks")
    port = snmp.agent_port()
    (address,) = free_loopback(PDU_NET, 1, port)
    texts = {name: (recorded.walks_dir() / "librenms" / f"{name}.snmprec").read_text() for name in WALKS}
    texts |= {name: (recorded.walks_dir() / "librenms" / f"{name}.snmprec").read_text() for name in BY_HAND}
    texts |= {name: derive() for name, derive in DERIVED.items()}
    pid = snmp.serve_walks(folder, address, port, texts)
    try:
        # The lab's bound for a simulator still loading on a loaded machine; a dead one is given up at once.
        silent = snmp.wait_answering([(address, port, name) for name in texts], running=lambda _a: processes.alive(pid))
        assert not silent, f"see {folder}/snmpsim.log"
        yield Recorded(address, port)
    finally:
        processes.stop([pid])


def _librenms(walk: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((recorded.walks_dir() / "librenms-expected.json").read_text())[walk]
    return data


def _metric(sensor: dict[str, Any]) -> str:
    oid = sensor["sensor_oid"].lstrip(".")
    if sensor["sensor_class"] == "power" and oid.startswith(APPARENT):
        return "apparent_va"
    return CLASSES[sensor["sensor_class"]]


def _expected(sensor: dict[str, Any]) -> float:
    value = float(sensor["sensor_current"])
    if sensor["sensor_class"] == "power_factor" and sensor["sensor_oid"].lstrip(".").startswith(PERCENT_PF):
        return value / 100
    return value


def _read(walks: Recorded, walk: str) -> tuple[PduReadings, SnmpPdu]:
    with SnmpPdu(walks.endpoint(walk, WALKS[walk].platform)) as pdu:
        return pdu.readings(), pdu


def test_the_evidence_is_broad() -> None:
    """At least 15 recorded walks of at least 6 vendors, chained and three-phase units among them."""
    vendors = {recorded_vendor(w) for w in WALKS}
    assert len(WALKS) >= 15 and len(vendors) >= 6, vendors
    assert [w for w, e in WALKS.items() if e.units > 1]
    assert [w for w, e in WALKS.items() if e.levels.get("phase", 0) + e.levels.get("line", 0) >= 3]


def _recorded(walk: str, columns: Sequence[str]) -> bool:
    """Whether the kept walk has a row of any of the columns (some recordings lack the identity rows)."""
    text = (recorded.walks_dir() / "librenms" / f"{walk}.snmprec").read_text()
    return any(f"\n{column}." in f"\n{text}" for column in columns)


def recorded_vendor(walk: str) -> str:
    return str(_librenms(walk)["device"]["sysObjectID"]).split(".")[7]


@pytest.mark.parametrize("walk", sorted(WALKS))
def test_detection_and_identity(walks: Recorded, walk: str) -> None:
    expect = WALKS[walk]
    with SnmpPdu(walks.endpoint(walk, expect.platform)) as pdu:
        probe = pdu.probe()
    assert probe.family == expect.family
    device = _librenms(walk)["device"]
    identity = families()[expect.family].identity
    if device["serial"] and _recorded(walk, identity["serial"]):
        assert probe.identity.serial == device["serial"]
    if device["hardware"] and "Management Card" not in device["hardware"] and _recorded(walk, identity["model"]):
        assert probe.identity.model and probe.identity.model in device["hardware"]
    assert probe.metered and probe.units == expect.units


@pytest.mark.parametrize("walk", sorted(WALKS))
def test_readings_match_what_librenms_reads_from_the_same_walk(walks: Recorded, walk: str) -> None:
    expect = WALKS[walk]
    readings, _ = _read(walks, walk)
    ours = {(oid, metric): getattr(m, metric) for m in readings.meters for metric, oid in m.sources.items()}
    matched, wrong, unread = 0, [], []
    for sensor in _librenms(walk)["sensors"]:
        if sensor["sensor_class"] not in CLASSES:
            continue
        key = (sensor["sensor_oid"].lstrip("."), _metric(sensor))
        if key not in ours:
            if not key[0].startswith(tuple(expect.unread)):
                unread.append(f"{sensor['sensor_descr']} {key}")
            continue
        if ours[key] != pytest.approx(_expected(sensor), rel=1e-6, abs=1e-9):
            wrong.append(f"{sensor['sensor_descr']} {key}: LibreNMS {sensor['sensor_current']}, rackctl {ours[key]}")
        matched += 1
    assert wrong == [] and unread == []
    assert matched >= expect.matched
    assert not readings.problems


@pytest.mark.parametrize("walk", sorted(WALKS))
def test_every_level_the_walk_meters_is_read(walks: Recorded, walk: str) -> None:
    readings, _ = _read(walks, walk)
    counts = {level: len(readings.level(level)) for level in ("unit", "inlet", "line", "phase", "bank", "outlet")}
    assert {k: v for k, v in counts.items() if v} == WALKS[walk].levels
    assert len({m.unit for m in readings.meters}) == WALKS[walk].units


def test_a_sentry4_link_unit_is_read_with_its_master(walks: Recorded) -> None:
    readings, _ = _read(walks, "sentry4_switched8i")
    # st4LineLabel and st4LineCurrent of units 1 and 2 in the walk: AA:L 403, BA:L 427 (hundredth A)
    assert [(m.unit, m.name, m.current_a) for m in readings.level("line")] == [(1, "AA:L", 4.03), (2, "BA:L", 4.27)]
    assert readings.total_power_w == 806 + 856  # st4InputCordActivePower of cords AA and BA (W)


def test_sentry3_towers_a_and_b(walks: Recorded) -> None:
    readings, _ = _read(walks, "sentry3")
    # infeedID and infeedLoadValue (hundredth A) of tower A and tower B: 362 and 502
    assert [(m.unit, m.name, m.current_a) for m in readings.level("inlet")] == [(1, "AA", 3.62), (2, "BA", 5.02)]


def test_ratings_come_from_the_pdu(walks: Recorded) -> None:
    readings, _ = _read(walks, "sentry4")
    (cord,) = readings.level("inlet")
    assert cord.rating_a == 30  # st4InputCordCurrentCapacity of cord AA in the walk (A)
    eaton, _ = _read(walks, "eatonpdu_2")
    assert {m.rating_a for m in eaton.outlets} == {16.0}  # outletCurrentCapacity 16000 mA


def test_a_wrong_family_reads_nothing(walks: Recorded) -> None:
    with SnmpPdu(walks.endpoint("eatonpdu_2", "raritan")) as pdu:
        readings = pdu.readings()
    assert not readings.metered and not readings.switched


def test_walks_are_where_the_provenance_says() -> None:
    provenance = (recorded.walks_dir() / "PROVENANCE.md").read_text()
    for walk in WALKS:
        assert f"librenms/{walk}.snmprec |" in provenance
        assert _librenms(walk)["sensors"]


def test_auto_prefers_rpdu2_and_falls_back_to_the_first_generation_rpdu(walks: Recorded) -> None:
    with SnmpPdu(walks.endpoint("apc_ap7900b")) as pdu:
        assert pdu.probe().family == "apc"  # the AP7900B answers rPDU2 too: the richer MIB wins
    with SnmpPdu(walks.endpoint("apc_ap7900b-rpdu-only")) as pdu:
        probe = pdu.probe()
        readings = pdu.readings()
    assert probe.family == "apc-rpdu" and probe.identity.model == "AP7900B"  # LibreNMS: hardware "AP7900B B2"
    assert probe.identity.serial == "ZA1732000177"  # LibreNMS: serial
    ours = {oid: getattr(m, metric) for m in readings.meters for metric, oid in m.sources.items()}
    # LibreNMS's values for the same rows (apc_ap7900b in librenms-expected.json): 2.8 A, 312 W, 120 V
    assert ours["1.3.6.1.4.1.318.1.1.12.2.3.1.1.2.1"] == 2.8
    assert ours["1.3.6.1.4.1.318.1.1.12.1.16.0"] == 312
    assert ours["1.3.6.1.4.1.318.1.1.12.1.15.0"] == 120


def test_a_switched_pdu_that_measures_nothing_is_not_a_success(walks: Recorded) -> None:
    target = PduTarget("eaton-unmetered", walks.endpoint("eatonpdu_2-unmetered"))
    with SnmpPdu(target.endpoint) as pdu:
        readings = pdu.readings()
        assert pdu.family.name == "eaton" and readings.switched and not readings.metered
    with pytest.raises(CommandError, match=r"switched, not metered: .* no readings \(EATON-EPDU-MIB"):
        read_meters(target)
    wrong = PduTarget("eaton-as-raritan", walks.endpoint("eatonpdu_2", "raritan"))
    with pytest.raises(CommandError, match=r"no readings in the expected tables of PDU2-MIB .*: wrong family\?"):
        read_meters(wrong)


def test_sentry3_outlets_are_numbered_along_the_tower(walks: Recorded) -> None:
    """Sentry3-MIB counts outlets per infeed (tower.infeed.outlet); rackctl numbers a tower's outlets 1..n."""
    with SnmpPdu(walks.endpoint("sentry3_switched")) as pdu:
        probe = pdu.probe()
        readings = pdu.readings()
    assert probe.family == "sentry3" and probe.outlets == 30 and probe.phases == 0
    # towerModelNumber and towerProductSN of tower A
    assert (probe.identity.model, probe.identity.serial) == ("CWG-30VDE455/CB", "ADFC0001714")
    # infeedLoadValue (hundredth A) 309, 392, 434; infeedVoltage (tenth V) 2070, 2078, 2087; infeedCapacity 30 A
    inlets = [(m.name, m.current_a, m.voltage_v, m.rating_a) for m in readings.level("inlet")]
    assert inlets == [("AA", 3.09, 207.0, 30), ("AB", 3.92, 207.8, 30), ("AC", 4.34, 208.7, 30)]
    outlets = {m.number: m.current_a for m in readings.level("outlet")}
    # outletLoadValue (hundredth A) of AA8, AA10, AB1, AB10 and AC10 (outlets 8, 10, 11, 20, 30): 64, 65, 81, 28, 56
    assert sorted(outlets) == list(range(1, 31))
    assert (outlets[8], outlets[10], outlets[11], outlets[20], outlets[30]) == (0.64, 0.65, 0.81, 0.28, 0.56)
    assert outlets[1] == 0 and not readings.problems  # AA1 reads 0: measured zero, not absent
