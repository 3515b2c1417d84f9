"""The SNMP walks simulated PDUs serve, one per MIB family, written from the vendors' MIBs.

These tables are kept apart from the driver's OID map (data/pdu_families.yaml) on purpose: the lab
is a second reading of the same MIBs, so a wrong OID on either side shows up as a failing test.
Static objects get their value here; live ones (outlet state and commands, currents, power) are
records of the `rackpdu` variation module, answered by lab/pdusim.py from the lab's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

OCTETS, INTEGER, OID, GAUGE, TICKS = "4", "2", "6", "66", "67"
PHASES = (1, 2, 3)
BANKS = 6  # branch breakers (banks) of a three-phase 36-outlet PDU, six outlets each
Record = tuple[str, str, str]
APC_DESCR = "APC Web/SNMP Management Card (MB:v4.1.0 PF:{fw} PN:{image})"


@dataclass(frozen=True)
class PduSpec:
    """What a simulated PDU reports about itself."""

    name: str
    family: str
    outlets: tuple[int, ...]
    outlet_names: dict[int, str] = field(default_factory=dict)
    serial: str = "LAB0001"
    volts: int = 240

    def bank_of(self, outlet: int) -> int:
        per_bank = max(1, math.ceil(max(self.outlets, default=1) / BANKS))
        return (outlet - 1) // per_bank + 1


def live(kind: str, **values: int | float) -> str:
    """The value of a record answered by the simulator: what it is and its parameters."""
    return ",".join([f"k={kind}", *(f"{key}={value}" for key, value in values.items())])


def constant(value: int) -> Callable[[int], int]:
    """The same value for every outlet."""
    return lambda _n: value


class _Walk:
    def __init__(self, spec: PduSpec, descr: str, sys_oid: str) -> None:
        self.spec = spec
        self.records: list[Record] = [
            ("1.3.6.1.2.1.1.1.0", OCTETS, descr),  # sysDescr
            ("1.3.6.1.2.1.1.2.0", OID, sys_oid),  # sysObjectID
            ("1.3.6.1.2.1.1.3.0", TICKS, "8640000"),  # sysUpTime
            ("1.3.6.1.2.1.1.5.0", OCTETS, spec.name),  # sysName
        ]

    def add(self, oid: str, tag: str, value: str | int) -> None:
        self.records.append((oid, tag, str(value)))

    def dynamic(self, oid: str, tag: str, value: str) -> None:
        self.records.append((oid, f"{tag}:rackpdu", value))

    def per_outlet(self, base: str, tag: str, value: Callable[[int], str | int], dynamic: bool = False) -> None:
        for n in self.spec.outlets:
            if dynamic:
                self.dynamic(base.format(n=n), tag, str(value(n)))
            else:
                self.add(base.format(n=n), tag, value(n))

    def name(self, n: int) -> str:
        return self.spec.outlet_names.get(n, f"Outlet {n}")


def _raritan(spec: PduSpec) -> _Walk:
    w = _Walk(spec, "Raritan PX3-5902V, firmware 4.0.20.5-49143", "1.3.6.1.4.1.13742.6")
    base = "1.3.6.1.4.1.13742.6"
    w.add(f"{base}.3.1.0", INTEGER, 1)  # pduCount
    for column, text in ((2, "Raritan"), (3, "PX3-5902V"), (4, spec.serial), (5, "380-415V"), (6, "63A")):
        w.add(f"{base}.3.2.1.1.{column}.1", OCTETS, text)  # nameplateTable: pduManufacturer ... pduRatedCurrent
    w.add(f"{base}.3.2.2.1.2.1", INTEGER, 1)  # inletCount
    w.add(f"{base}.3.2.2.1.4.1", INTEGER, len(spec.outlets))  # outletCount
    w.add(f"{base}.3.2.2.1.13.1", OCTETS, spec.name)  # pduName
    w.add(f"{base}.3.2.3.1.6.1.1.1", OCTETS, "4.0.20.5-49143")  # boardFirmwareVersion.1.mainController.1
    digits = {1: 3, 4: 0, 5: 0}  # rmsCurrent in mA, rmsVoltage in V, activePower in W
    for sensor, value in digits.items():
        w.add(f"{base}.3.3.4.1.7.1.1.{sensor}", INTEGER, value)  # inletSensorDecimalDigits
        for pole in PHASES:
            w.add(f"{base}.3.3.6.1.7.1.1.{pole}.{sensor}", INTEGER, value)  # inletPoleSensorDecimalDigits
        w.per_outlet(f"{base}.3.5.4.1.7.1.{{n}}.{sensor}", INTEGER, constant(value))  # outletSensorDecimalDigits
    w.per_outlet(f"{base}.3.5.3.1.2.1.{{n}}", OCTETS, str)  # outletLabel
    w.per_outlet(f"{base}.3.5.3.1.3.1.{{n}}", OCTETS, w.name)  # outletName
    w.per_outlet(f"{base}.3.5.3.1.28.1.{{n}}", INTEGER, lambda _n: 1)  # outletSwitchable: true
    w.per_outlet(f"{base}.4.1.2.1.2.1.{{n}}", INTEGER, lambda n: live("control", n=n, on=1, off=0, cycle=2), True)
    w.per_outlet(f"{base}.4.1.2.1.3.1.{{n}}", INTEGER, lambda n: live("state", n=n, on=7, off=8), True)
    w.dynamic(f"{base}.5.2.3.1.4.1.1.1", GAUGE, live("total_current", unit=0.001))  # inlet rmsCurrent
    w.add(f"{base}.5.2.3.1.4.1.1.4", GAUGE, spec.volts)  # inlet rmsVoltage
    w.dynamic(f"{base}.5.2.3.1.4.1.1.5", GAUGE, live("total_power", unit=1))  # inlet activePower
    for pole in PHASES:
        w.dynamic(f"{base}.5.2.4.1.4.1.1.{pole}.1", GAUGE, live("phase_current", n=pole, unit=0.001))
        w.add(f"{base}.5.2.4.1.4.1.1.{pole}.4", GAUGE, spec.volts)
        w.dynamic(f"{base}.5.2.4.1.4.1.1.{pole}.5", GAUGE, live("phase_power", n=pole, unit=1))
    _raritan_ocps(w, base)
    w.per_outlet(f"{base}.5.4.3.1.3.1.{{n}}.14", INTEGER, lambda n: live("state", n=n, on=7, off=8), True)
    w.per_outlet(f"{base}.5.4.3.1.4.1.{{n}}.1", GAUGE, lambda n: live("current", n=n, unit=0.001), True)
    w.per_outlet(f"{base}.5.4.3.1.4.1.{{n}}.4", GAUGE, lambda _n: spec.volts)
    w.per_outlet(f"{base}.5.4.3.1.4.1.{{n}}.5", GAUGE, lambda n: live("power", n=n, unit=1), True)
    return w


def _raritan_ocps(w: _Walk, base: str) -> None:
    """Over-current protectors (one per bank of outlets): label, rated current, and rmsCurrent in mA."""
    for b in range(1, BANKS + 1):
        w.add(f"{base}.3.4.3.1.2.1.{b}", OCTETS, f"C{b}")  # overCurrentProtectorLabel
        w.add(f"{base}.3.4.3.1.5.1.{b}", OCTETS, "20A")  # overCurrentProtectorRatedCurrent
        w.add(f"{base}.3.4.4.1.7.1.{b}.1", INTEGER, 3)  # overCurrentProtectorSensorDecimalDigits: rmsCurrent
        w.dynamic(f"{base}.5.3.3.1.4.1.{b}.1", GAUGE, live("bank_current", n=b, unit=0.001))


def _apc(spec: PduSpec) -> _Walk:
    w = _Walk(spec, APC_DESCR.format(fw="v6.9.6", image="apc_hw05_aos_696.bin"), "1.3.6.1.4.1.318.1.3.4.5")
    base = "1.3.6.1.4.1.318.1.1.26"
    ident: dict[int, str | int] = {
        1: 1,
        2: 1,
        3: spec.name,
        5: "02",
        6: "v6.9.6",
        7: "03/14/2023",
        8: "AP8886",
        9: spec.serial,
    }
    for column, value in ident.items():
        w.add(f"{base}.2.1.{column}.1", OCTETS if isinstance(value, str) else INTEGER, value)  # rPDU2IdentTable
    w.add(f"{base}.4.3.1.1.1", INTEGER, 1)  # rPDU2DeviceStatusIndex
    w.add(f"{base}.4.3.1.4.1", INTEGER, 2)  # rPDU2DeviceStatusLoadState: normal
    w.dynamic(f"{base}.4.3.1.5.1", INTEGER, live("total_power", unit=10))  # rPDU2DeviceStatusPower (0.01 kW)
    w.add(f"{base}.4.3.1.2.1", INTEGER, 1)  # rPDU2DeviceStatusModule
    for p in PHASES:  # rPDU2PhaseStatusTable: Index, Module, Number ...
        w.add(f"{base}.6.3.1.1.{p}", INTEGER, p)
        w.add(f"{base}.6.3.1.2.{p}", INTEGER, 1)
        w.add(f"{base}.6.3.1.3.{p}", INTEGER, p)
        w.dynamic(f"{base}.6.3.1.5.{p}", INTEGER, live("phase_current", n=p, unit=0.1))
        w.add(f"{base}.6.3.1.6.{p}", INTEGER, spec.volts)
        w.dynamic(f"{base}.6.3.1.7.{p}", INTEGER, live("phase_power", n=p, unit=10))
    for b in range(1, BANKS + 1):  # rPDU2BankStatusTable
        w.add(f"{base}.8.3.1.1.{b}", INTEGER, b)
        w.add(f"{base}.8.3.1.2.{b}", INTEGER, 1)  # rPDU2BankStatusModule
        w.add(f"{base}.8.3.1.3.{b}", INTEGER, b)  # rPDU2BankStatusNumber
        w.dynamic(f"{base}.8.3.1.5.{b}", INTEGER, live("bank_current", n=b, unit=0.1))
    w.per_outlet(f"{base}.9.2.3.1.1.{{n}}", INTEGER, lambda n: n)  # rPDU2OutletSwitchedStatusIndex
    w.per_outlet(f"{base}.9.2.3.1.2.{{n}}", INTEGER, lambda _n: 1)  # rPDU2OutletSwitchedStatusModule
    w.per_outlet(f"{base}.9.2.3.1.3.{{n}}", OCTETS, w.name)  # rPDU2OutletSwitchedStatusName
    w.per_outlet(f"{base}.9.2.3.1.4.{{n}}", INTEGER, lambda n: n)  # rPDU2OutletSwitchedStatusNumber
    w.per_outlet(f"{base}.9.2.3.1.5.{{n}}", INTEGER, lambda n: live("state", n=n, on=2, off=1), True)
    w.per_outlet(f"{base}.9.2.3.1.6.{{n}}", INTEGER, lambda _n: 2)  # ...CommandPending: noCommandPending
    control = {"n": 0, "on": 1, "off": 2, "cycle": 3, "read_on": 1, "read_off": 2}
    w.per_outlet(f"{base}.9.2.4.1.5.{{n}}", INTEGER, lambda n: live("control", **(control | {"n": n})), True)
    w.per_outlet(f"{base}.9.4.3.1.2.{{n}}", INTEGER, lambda _n: 1)  # rPDU2OutletMeteredStatusModule
    w.per_outlet(f"{base}.9.4.3.1.3.{{n}}", OCTETS, w.name)  # rPDU2OutletMeteredStatusName
    w.per_outlet(f"{base}.9.4.3.1.4.{{n}}", INTEGER, lambda n: n)  # rPDU2OutletMeteredStatusNumber
    w.per_outlet(f"{base}.9.4.3.1.6.{{n}}", INTEGER, lambda n: live("current", n=n, unit=0.1), True)
    w.per_outlet(f"{base}.9.4.3.1.7.{{n}}", INTEGER, lambda n: live("power", n=n, unit=1), True)
    return w


def _apc_rpdu(spec: PduSpec) -> _Walk:
    w = _Walk(spec, APC_DESCR.format(fw="v3.9.2", image="apc_hw02_rpdu_392.bin"), "1.3.6.1.4.1.318.1.3.4.4")
    base = "1.3.6.1.4.1.318.1.1.12"
    ident = {1: spec.name, 2: "B2", 3: "v3.9.2", 4: "08/13/2012", 5: "AP7953", 6: spec.serial}
    for column, value in ident.items():
        w.add(f"{base}.1.{column}.0", OCTETS, value)  # rPDUIdent
    w.add(f"{base}.1.8.0", INTEGER, len(spec.outlets))  # rPDUIdentDeviceNumOutlets
    w.add(f"{base}.1.9.0", INTEGER, len(PHASES))  # rPDUIdentDeviceNumPhases
    w.dynamic(f"{base}.1.16.0", INTEGER, live("total_power", unit=1))  # rPDUIdentDevicePowerWatts
    for p in PHASES:  # rPDULoadStatusTable: one row per phase
        w.add(f"{base}.2.3.1.1.1.{p}", INTEGER, p)
        w.dynamic(f"{base}.2.3.1.1.2.{p}", GAUGE, live("phase_current", n=p, unit=0.1))
        w.add(f"{base}.2.3.1.1.4.{p}", INTEGER, p)
    control = {"n": 0, "on": 1, "off": 2, "cycle": 3, "read_on": 1, "read_off": 2}
    w.per_outlet(f"{base}.3.3.1.1.2.{{n}}", OCTETS, w.name)  # rPDUOutletControlOutletName
    w.per_outlet(f"{base}.3.3.1.1.4.{{n}}", INTEGER, lambda n: live("control", **(control | {"n": n})), True)
    w.per_outlet(f"{base}.3.5.1.1.1.{{n}}", INTEGER, lambda n: n)  # rPDUOutletStatusIndex
    w.per_outlet(f"{base}.3.5.1.1.2.{{n}}", OCTETS, w.name)  # rPDUOutletStatusOutletName
    w.per_outlet(f"{base}.3.5.1.1.4.{{n}}", INTEGER, lambda n: live("state", n=n, on=1, off=2), True)
    w.per_outlet(f"{base}.3.5.1.1.7.{{n}}", GAUGE, lambda n: live("current", n=n, unit=0.1), True)
    return w


def _servertech(spec: PduSpec) -> _Walk:
    w = _Walk(spec, "Sentry Switched PDU", "1.3.6.1.4.1.1718.4")
    base = "1.3.6.1.4.1.1718.4.1"
    w.add(f"{base}.1.1.1.0", OCTETS, "Sentry Switched PDU")  # st4SystemProductName
    w.add(f"{base}.1.1.3.0", OCTETS, "Version 8.0v")  # st4SystemFirmwareVersion
    unit = {2: "A", 3: spec.name, 4: spec.serial, 5: "C2S36TE-DQME2M66/C"}
    for column, value in unit.items():
        w.add(f"{base}.2.2.1.{column}.1", OCTETS, value)  # st4UnitConfigTable: ID, Name, ProductSN, Model
    for p in PHASES:
        w.add(f"{base}.4.3.1.1.1.1.{p}", INTEGER, 1)  # st4LineState: on
        w.dynamic(f"{base}.4.3.1.3.1.1.{p}", INTEGER, live("phase_current", n=p, unit=0.01))  # st4LineCurrent
        w.add(f"{base}.5.3.1.3.1.1.{p}", INTEGER, spec.volts * 10)  # st4PhaseVoltage (0.1 V)
        w.dynamic(f"{base}.5.3.1.6.1.1.{p}", INTEGER, live("phase_current", n=p, unit=0.01))  # st4PhaseCurrent
        w.dynamic(f"{base}.5.3.1.8.1.1.{p}", INTEGER, live("phase_power", n=p, unit=1))  # st4PhaseActivePower
    for b in range(1, BANKS + 1):
        w.add(f"{base}.7.3.1.1.1.1.{b}", INTEGER, 1)  # st4BranchState: on
        w.dynamic(f"{base}.7.3.1.3.1.1.{b}", INTEGER, live("bank_current", n=b, unit=0.01))  # st4BranchCurrent
    w.per_outlet(f"{base}.8.2.1.2.1.1.{{n}}", OCTETS, lambda n: f"AA{n}")  # st4OutletID
    w.per_outlet(f"{base}.8.2.1.3.1.1.{{n}}", OCTETS, w.name)  # st4OutletName
    w.per_outlet(f"{base}.8.3.1.1.1.1.{{n}}", INTEGER, lambda n: live("state", n=n, on=1, off=2), True)
    w.per_outlet(f"{base}.8.3.1.2.1.1.{{n}}", INTEGER, lambda _n: 0)  # st4OutletStatus: normal
    w.per_outlet(f"{base}.8.3.1.3.1.1.{{n}}", INTEGER, lambda n: live("current", n=n, unit=0.01), True)
    w.per_outlet(f"{base}.8.3.1.6.1.1.{{n}}", INTEGER, lambda _n: spec.volts * 10)  # st4OutletVoltage
    w.per_outlet(f"{base}.8.3.1.7.1.1.{{n}}", INTEGER, lambda n: live("power", n=n, unit=1), True)
    w.per_outlet(f"{base}.8.5.1.1.1.1.{{n}}", INTEGER, lambda n: live("state", n=n, on=11, off=10), True)
    control = {"n": 0, "on": 1, "off": 2, "cycle": 3, "read_on": 0, "read_off": 0}
    w.per_outlet(f"{base}.8.5.1.2.1.1.{{n}}", INTEGER, lambda n: live("control", **(control | {"n": n})), True)
    return w


WALKS: dict[str, Callable[[PduSpec], _Walk]] = {
    "raritan": _raritan,
    "apc": _apc,
    "apc-rpdu": _apc_rpdu,
    "servertech": _servertech,
}


def _key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


def snmprec(spec: PduSpec) -> str:
    """The PDU's walk as an snmpsim data file (records sorted by OID, as snmpsim needs them)."""
    records = WALKS[spec.family](spec).records
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in sorted(records, key=lambda r: _key(r[0])))
