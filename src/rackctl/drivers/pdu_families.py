"""PDU families as data: what each MIB calls outlet state, outlet commands and readings.

`data/pdu_families.yaml` maps each thing rackctl needs to the OIDs of one MIB; this module reads it
(no SNMP library needed, so the lab can use it too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from rackctl.errors import Unsupported
from rackctl.paths import data_dir
from rackctl.types import PowerAction

PARTS = ("outlet", "phase", "bank")


@dataclass(frozen=True)
class Column:
    """A numbered column: `oid` with {n}, scaled by `scale` or by 10^-(value at `digits`)."""

    oid: str
    scale: float = 1.0
    digits: str = ""

    def at(self, number: int) -> str:
        return self.oid.replace("{n}", str(number))

    def pattern(self) -> tuple[str, re.Pattern[str]]:
        """The prefix to walk and a pattern that finds the number in a returned OID."""
        head, _, tail = self.oid.partition(".{n}")
        return head, re.compile(re.escape(head) + r"\.(\d+)" + re.escape(tail) + "$")


@dataclass(frozen=True)
class Family:
    name: str
    mib: str
    vendor: str
    identity: dict[str, str]
    state: Column
    on_values: frozenset[int]
    off_values: frozenset[int]
    control: Column
    commands: dict[PowerAction, int]
    outlet_name: Column | None = None
    meters: dict[str, dict[str, Column]] = field(default_factory=dict)  # outlet/phase/bank -> current/power
    total_power: Column | None = None


def _column(data: Any) -> Column:
    if isinstance(data, str):
        return Column(data)
    return Column(str(data["oid"]), float(data.get("scale", 1.0)), str(data.get("digits", "")))


def _family(name: str, data: dict[str, Any]) -> Family:
    outlet = data["outlet"]
    control = outlet["control"]
    commands = {PowerAction(k): int(control[k]) for k in ("on", "off", "cycle") if k in control}
    meters = {
        part: {m: _column(data[part][m]) for m in ("current", "power") if m in data.get(part, {})} for part in PARTS
    }
    total = data.get("total", {}).get("power")
    return Family(
        name=name,
        mib=str(data["mib"]),
        vendor=str(data["vendor"]),
        identity={k: str(v) for k, v in data.get("identity", {}).items()},
        state=_column(outlet["state"]),
        on_values=frozenset(int(v) for v in outlet["state"]["on"]),
        off_values=frozenset(int(v) for v in outlet["state"]["off"]),
        control=_column(control),
        commands=commands,
        outlet_name=_column(outlet["name"]) if "name" in outlet else None,
        meters=meters,
        total_power=_column(total) if total else None,
    )


@cache
def families() -> dict[str, Family]:
    """Every PDU family rackctl knows, by name."""
    raw = yaml.safe_load((data_dir("") / "pdu_families.yaml").read_text())
    return {name: _family(name, data) for name, data in raw.items()}


@cache
def _aliases() -> dict[str, str]:
    raw = yaml.safe_load((data_dir("") / "pdu_families.yaml").read_text())
    return {alias: name for name, data in raw.items() for alias in [name, *data.get("aliases", [])]}


def family_for(platform: str) -> Family:
    """The family of an inventory platform (raritan, apc, servertech ...)."""
    name = _aliases().get((platform or "").strip().lower())
    if name is None:
        known = ", ".join(sorted(families()))
        raise Unsupported(f"no PDU family for platform '{platform}' (known: {known})")
    return families()[name]
