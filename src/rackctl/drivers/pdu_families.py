"""PDU families as data: which MIB columns hold each level's readings, the outlets' state and commands.

`data/pdu_families.yaml` describes one MIB per entry (its header says how); this module reads it into
values (no SNMP library needed, so the lab and the tests can use it too) and reads a walked row's
index: which unit of a chain, which number, which part of the row only makes it unique.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rackctl.errors import Unsupported
from rackctl.paths import data_dir
from rackctl.types import PowerAction
from rackctl.yamlsrc import load_plain

AUTO = "auto"
LEVEL_NAMES = ("unit", "inlet", "line", "phase", "bank", "outlet")
METRIC_FIELDS = {
    "current": "current_a",
    "power": "power_w",
    "apparent": "apparent_va",
    "voltage": "voltage_v",
    "energy": "energy_kwh",
    "pf": "power_factor",
    "rating": "rating_a",
}


@dataclass(frozen=True)
class Column:
    """A table column: its OID (no index), how its value scales, and the sensor-type suffix it wants."""

    oid: str
    scale: float = 1.0
    digits: str = ""  # the column of decimal digits for the same row (PDU2-MIB)
    suffix: str = ""  # trailing index part selecting a sensor type
    text: bool = False  # the value is a string such as "16A"

    def row(self, returned_suffix: str) -> str | None:
        """The row index of a walked OID suffix, or None when it is another sensor type's."""
        if not self.suffix:
            return returned_suffix
        head, dot, tail = returned_suffix.rpartition(".")
        return head if dot and tail == self.suffix else None


@dataclass(frozen=True)
class Table:
    """One level of a PDU: how its row index reads, and the columns of its metrics."""

    index: tuple[str, ...]
    unit: Column | None = None  # a column holding the unit (chain position)
    number: Column | None = None  # a column holding the number
    label: Column | None = None
    metrics: dict[str, Column] = field(default_factory=dict)  # Meter field -> column
    sequence: bool = False  # number rows 1, 2, ... per unit (the MIB numbers them per input, Sentry3)

    def columns(self) -> list[Column]:
        extra = [c for c in (self.unit, self.number, self.label) if c is not None]
        digits = [Column(c.digits, suffix=c.suffix) for c in self.metrics.values() if c.digits]
        return extra + list(self.metrics.values()) + digits


@dataclass(frozen=True)
class Switching:
    """Switched outlets: the table of their state, the values meaning on and off, and each command."""

    table: Table
    state: Column
    on_values: frozenset[int]
    off_values: frozenset[int]
    commands: dict[PowerAction, tuple[str, int]]  # action -> (column OID, value to write)

    def rows_table(self) -> Table:
        """The outlet table with its state column as the column that lists the rows."""
        t = self.table
        return Table(t.index, t.unit, t.number, t.label, {"state": self.state}, t.sequence)


@dataclass(frozen=True)
class Family:
    name: str
    mib: str
    vendor: str
    identity: dict[str, tuple[str, ...]]
    sys_object_ids: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    levels: dict[str, Table] = field(default_factory=dict)
    outlets: Switching | None = None
    unit_base: int = 1

    def unit_of(self, raw: int) -> int:
        """Chain position counted from 1, whatever the MIB counts from."""
        return raw - self.unit_base + 1


def _column(data: Any) -> Column:
    if isinstance(data, str):
        return Column(data)
    return Column(
        str(data["oid"]),
        float(data.get("scale", 1.0)),
        str(data.get("digits", "")),
        str(data.get("suffix", "")),
        bool(data.get("text", False)),
    )


def _optional(data: dict[str, Any], key: str) -> Column | None:
    return _column(data[key]) if key in data else None


def _table(data: dict[str, Any]) -> Table:
    metrics = {METRIC_FIELDS[k]: _column(v) for k, v in data.items() if k in METRIC_FIELDS}
    return Table(
        tuple(str(p) for p in data.get("index", ["number"])),
        _optional(data, "unit"),
        _optional(data, "number"),
        _optional(data, "label") or _optional(data, "name"),
        metrics,
        data.get("numbering") == "sequence",
    )


def _commands(control: dict[str, Any]) -> dict[PowerAction, tuple[str, int]]:
    commands = {}
    for action in ("on", "off", "cycle"):
        spec = control.get(action)
        if isinstance(spec, dict):
            commands[PowerAction(action)] = (str(spec["oid"]), int(spec["value"]))
        elif spec is not None:
            commands[PowerAction(action)] = (str(control["oid"]), int(spec))
    return commands


def _switching(data: dict[str, Any] | None) -> Switching | None:
    if not data:
        return None
    state = data["state"]
    return Switching(
        _table(data),
        _column(state),
        frozenset(int(v) for v in state["on"]),
        frozenset(int(v) for v in state["off"]),
        _commands(data["control"]),
    )


def _family(name: str, data: dict[str, Any]) -> Family:
    detect = data.get("detect", {})
    return Family(
        name=name,
        mib=str(data["mib"]),
        vendor=str(data["vendor"]),
        identity={k: tuple(str(o) for o in v) for k, v in data.get("identity", {}).items()},
        sys_object_ids=tuple(str(o) for o in detect.get("sysobjectid", [])),
        probes=tuple(str(o) for o in detect.get("probe", [])),
        levels={level: _table(data["levels"][level]) for level in LEVEL_NAMES if level in data.get("levels", {})},
        outlets=_switching(data.get("outlets")),
        unit_base=int(data.get("unit_base", 1)),
    )


@cache
def _raw() -> dict[str, Any]:
    # Read by every PDU command and template build: libyaml's parser takes 4 ms over it, Python's 40 ms.
    loaded: dict[str, Any] = load_plain((data_dir("") / "pdu_families.yaml").read_text())
    return loaded


@cache
def families() -> dict[str, Family]:
    """Every PDU family rackctl knows, by name (in the file's order: detection tries them so)."""
    return {name: _family(name, data) for name, data in _raw().items()}


@cache
def _aliases() -> dict[str, str]:
    return {alias: name for name, data in _raw().items() for alias in [name, *data.get("aliases", [])]}


def platforms() -> list[str]:
    """Every platform name a PDU may be given: `auto`, the families and their aliases."""
    return [AUTO, *sorted(_aliases())]


def family_for(platform: str) -> Family:
    """The family of an inventory platform (raritan, apc, servertech ...); `auto` is not one."""
    name = _aliases().get((platform or "").strip().lower())
    if name is None:
        known = ", ".join(sorted(families()))
        raise Unsupported(f"no PDU family for platform '{platform}' (known: auto, {known})")
    return families()[name]


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def number_in(text: str) -> float | None:
    """The first number in a string such as '16A' or '32 A', else None."""
    found = _NUMBER.search(text)
    return float(found.group()) if found else None
