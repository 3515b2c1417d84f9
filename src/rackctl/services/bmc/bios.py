"""BIOS settings against the profile: read them, compare them, stage and apply them.

The profile's intents become the vendor's attribute names (bios_intents), its `attributes` are taken
as named; every wanted value is checked against the BMC's own Attribute Registry when it serves one
(else against the attributes it reports) before anything is written. Changes go to the settings
object the Bios resource names and stay pending until the next reset; `--reboot` performs that reset
through the power sequencing and confirms the new values afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from rackctl.drivers.base import BiosConfig, SecureBootControl
from rackctl.drivers.bmcconfig import AttributeSpec, BiosState
from rackctl.errors import Unsupported
from rackctl.services.bmc import bios_intents as intents
from rackctl.services.bmc import require


@dataclass(frozen=True)
class BiosRead:
    """One BMC's BIOS: attributes (current and pending), its registry, and UEFI Secure Boot."""

    state: BiosState
    registry: dict[str, AttributeSpec] = field(default_factory=dict)
    secure_boot: bool | None = None


@dataclass(frozen=True)
class Row:
    """One wanted setting: where it comes from, what the BMC has, what is staged, and what is wanted."""

    attribute: str
    source: str  # the intent ("sriov") or "attributes"
    current: Any
    pending: Any
    wanted: Any
    problem: str = ""
    status: str = field(init=False, default="")

    def __post_init__(self) -> None:
        # ok; pending (staged, applies at the next reset); differs (to write - also when a staged value would
        # undo a current one that is right); problem (cannot be written here).
        status = "problem" if self.problem else "differs"
        if not self.problem and self.pending == self.wanted:
            status = "ok" if self.current == self.wanted else "pending"
        object.__setattr__(self, "status", status)


@dataclass(frozen=True)
class BiosDiff:
    vendor: str
    rows: tuple[Row, ...] = ()

    @property
    def changes(self) -> dict[str, Any]:
        """Attributes to write (Secure Boot is not one: it has its own resource)."""
        return {r.attribute: r.wanted for r in self.rows if r.status == "differs" and r.source != "secure_boot"}

    @property
    def secure_boot(self) -> bool | None:
        rows = [r for r in self.rows if r.source == "secure_boot" and r.status == "differs"]
        return bool(rows[0].wanted) if rows else None

    @property
    def problems(self) -> list[str]:
        return [r.problem for r in self.rows if r.problem]

    @property
    def message(self) -> str:
        counts = {s: sum(r.status == s for r in self.rows) for s in ("ok", "differs", "pending", "problem")}
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "the profile sets no BIOS attribute"

    def __str__(self) -> str:
        return self.message


def read_bios(bmc: Any) -> BiosRead:
    """One session: the Bios resource, its settings object, its registry and Secure Boot."""
    require(bmc, BiosConfig)
    state = bmc.bios()
    secure = None
    if isinstance(bmc, SecureBootControl):
        with suppress(Unsupported):
            secure = bmc.secure_boot()
    return BiosRead(state, bmc.bios_registry(state.registry), secure)


def check(spec: AttributeSpec | None, name: str, value: Any, registry: bool, known: set[str]) -> str:
    """Why `value` cannot be written to `name` on this BMC ("" when it can)."""
    if spec is None and registry:
        return f"{name}: the BMC's attribute registry does not know this attribute"
    if spec is None:
        return "" if name in known else f"{name}: the BMC reports no such attribute (and serves no registry)"
    if spec.read_only:
        return f"{name}: read-only on this BMC"
    if spec.type == "Enumeration" and spec.values and str(value) not in spec.values:
        return f"{name}: {value!r} is not one of {', '.join(spec.values)}"
    if spec.type == "Integer" and (not isinstance(value, int) or _outside(value, spec)):
        return f"{name}: {value!r} is not a whole number within {spec.lower}..{spec.upper}"
    if spec.type == "String" and spec.max_length is not None and len(str(value)) > spec.max_length:
        return f"{name}: longer than {spec.max_length} characters"
    return ""


def _outside(value: int, spec: AttributeSpec) -> bool:
    return (spec.lower is not None and value < spec.lower) or (spec.upper is not None and value > spec.upper)


def wanted(profile: Mapping[str, Any], read: BiosRead) -> tuple[str, dict[str, tuple[str, Any]], list[str]]:
    """(vendor, attribute -> (source, value), problems) for a profile's `bios` mapping on this BMC."""
    state = read.state
    vendor = intents.vendor_of(state.vendor, state.registry)
    available = set(read.registry) or set(state.attributes)
    found: dict[str, tuple[str, Any]] = {}
    problems = []
    for intent in intents.INTENTS:
        if intent not in profile or intent == "secure_boot":
            continue
        value = intents.normalised(intent, profile[intent])
        choice = intents.choose(vendor, intent, available)
        if choice is None:
            if intent not in intents.ALWAYS.get(vendor, {}):
                problems.append(f"{intent}: no known {vendor or 'vendor'} attribute; name it under bios.attributes")
            continue
        if value not in choice.values:
            problems.append(f"{intent}={value}: no known {vendor} value for {choice.attribute}")
            continue
        for name, setting in {**choice.also, choice.attribute: choice.values[value]}.items():
            found[name] = (intent, setting)
    for name, setting in (profile.get("attributes") or {}).items():
        found[str(name)] = ("attributes", setting)
    return vendor, found, problems


def diff(profile: Mapping[str, Any], read: BiosRead) -> BiosDiff:
    """Compare what the profile wants with what the BMC has and has staged."""
    vendor, found, problems = wanted(profile, read)
    state, known = read.state, set(read.state.attributes)
    rows = [Row("", "profile", None, None, None, p) for p in problems]
    for name, (source, value) in found.items():
        current = state.attributes.get(name)
        pending = state.pending.get(name, current)
        problem = check(read.registry.get(name), name, value, bool(read.registry), known)
        rows.append(Row(name, source, current, pending, value, problem))
    if "secure_boot" in profile:
        want = intents.normalised("secure_boot", profile["secure_boot"]) == "on"
        problem = "" if read.secure_boot is not None else "secure_boot: this BMC offers no SecureBoot resource"
        rows.append(Row("SecureBootEnable", "secure_boot", read.secure_boot, read.secure_boot, want, problem))
    return BiosDiff(vendor, tuple(rows))
