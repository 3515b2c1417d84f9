"""What a PDU command will switch, from the inventory alone: no PDU is asked and no secret is read.

A spec is `PDU[:OUTLETS]`: PDU is a name or node set of PDUs (`pdu-r12-[a1,b1]`, `@rack:r12` keeps its
PDUs), OUTLETS a range set (`25-27,30`). Outlet numbers are checked against what the PDU has: the
outlets the inventory lists for it, or else those its device type declares. Without OUTLETS the whole
PDU is meant: every outlet the inventory (or else the device type) lists; when neither lists any, the
count is unknown until the PDU itself is read (`PlannedPdu.counted_by` is empty) - never "one outlet".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ClusterShell.RangeSet import RangeSet, RangeSetParseError
from sqlalchemy.orm import Session

from rackctl import targets as targets_module
from rackctl.errors import NotFound, ValidationError
from rackctl.inventory import queries
from rackctl.inventory.components import outlet_numbers
from rackctl.inventory.models import Device
from rackctl.services.feeds import downstream
from rackctl.types import DeviceRole

_RANGE = re.compile(r"^[\d,\-\[\]\s]+$")
MAX_OUTLET = 1024  # no PDU has more; a bigger number is a typo (and would make a huge plan)


@dataclass(frozen=True)
class PlannedPdu:
    """One PDU of a spec and the outlets a command will switch on it."""

    name: str
    numbers: tuple[int, ...]  # empty only while the count is unknown (whole PDU, nothing lists outlets)
    whole: bool  # no outlets named: every outlet of the PDU
    counted_by: str  # "spec", "inventory", "device type", "PDU" (read from it), or "" (unknown yet)
    feeds: dict[int, str] = field(default_factory=dict)  # outlet -> "gpu-r12-u03 PSU1"
    powers: dict[int, tuple[str, ...]] = field(default_factory=dict)  # outlet -> every device it powers

    def labels(self) -> list[str]:
        return [f"{self.name}:{n}" for n in self.numbers]

    def affected(self) -> list[str]:
        """Every device the planned outlets power (through strips), sorted."""
        return sorted({d for n in self.numbers for d in self.powers.get(n, ())})

    def keep(self, wanted: Callable[[str], bool]) -> PlannedPdu:
        """This plan with only the outlets whose label `wanted` accepts."""
        return replace(self, numbers=tuple(n for n in self.numbers if wanted(f"{self.name}:{n}")))

    def counted(self, numbers: tuple[int, ...]) -> PlannedPdu:
        """This plan with the outlets the PDU reported."""
        return replace(self, numbers=tuple(sorted(numbers)), counted_by="PDU")


def parse_spec(spec: str) -> tuple[str, tuple[int, ...]]:
    """'pdu-r12-a1:25-27,30' -> ('pdu-r12-a1', (25, 26, 27, 30)); no outlets -> ()."""
    head, colon, tail = spec.strip().rpartition(":")
    if not colon or not _RANGE.match(tail):
        return spec.strip(), ()
    biggest = max((int(n) for n in re.findall(r"\d+", tail)), default=0)
    if biggest > MAX_OUTLET:
        raise ValidationError(f"'{spec}': outlet {biggest} cannot exist (no PDU has more than {MAX_OUTLET})")
    try:
        numbers = tuple(sorted(int(n) for n in RangeSet(tail.replace(" ", "").strip("[]"))))
    except (RangeSetParseError, ValueError) as exc:
        raise ValidationError(f"'{spec}': outlets '{tail}' are not a range like 1-3,7 ({exc})") from None
    if not numbers or min(numbers) < 1:
        raise ValidationError(f"'{spec}': outlet numbers start at 1")
    return head, numbers


def pdus_of(session: Session, expression: str) -> list[Device]:
    """The PDUs an expression names; other devices in a group expression are left out."""
    devices = queries.devices(session, targets_module.resolve(session, expression))
    pdus = [d for d in devices if d.role == DeviceRole.PDU]
    if not pdus:
        raise NotFound(f"'{expression}' holds no PDU")
    return pdus


def plan(session: Session, spec: str) -> list[PlannedPdu]:
    """Every PDU of the spec with the outlets it will switch; refuses outlets a PDU does not have."""
    expression, numbers = parse_spec(spec)
    return [plan_pdu(device, numbers, spec) for device in pdus_of(session, expression)]


def plan_pdu(device: Device, numbers: tuple[int, ...], spec: str = "") -> PlannedPdu:
    known, source = _known_outlets(device)
    if numbers and known:
        missing = sorted(set(numbers) - set(known))
        if missing:
            raise ValidationError(
                f"'{spec or device.name}': {device.name} has outlets {RangeSet(known)} ({source}: "
                f"{device.device_type.slug}); it has no outlet {RangeSet(missing)}"
            )
    feeds = {o.number: f"{o.power_port.device.name} {o.power_port.name}" for o in device.outlets if o.power_port}
    powers = {o.number: tuple(sorted(downstream(o))) for o in device.outlets if o.power_port}
    chosen, counted_by = (numbers, "spec") if numbers else (tuple(known), source if known else "")
    return PlannedPdu(device.name, chosen, not numbers, counted_by, feeds, powers)


def _known_outlets(device: Device) -> tuple[list[int], str]:
    if device.outlets:
        return sorted(o.number for o in device.outlets), "inventory"
    declared = sorted(outlet_numbers(device.device_type))
    return declared, "device type" if declared else ""


def describe(planned: PlannedPdu) -> str:
    """One line for plans and confirmations: the outlets, what each feeds, and every device they power."""
    if not planned.numbers:
        return f"{planned.name}: every outlet (neither the inventory nor its device type lists them)"
    whole = " (every outlet)" if planned.whole else ""
    fed = [_outlet(planned, n) for n in planned.numbers if n in planned.feeds]
    idle = len(planned.numbers) - len(fed)
    listing = ", ".join(fed) + (f"{', ' if fed else ''}{idle} feeding nothing the inventory knows" if idle else "")
    devices = planned.affected()
    powering = f"; powering {', '.join(devices)}" if devices else ""
    return f"{planned.name}:{RangeSet(planned.numbers)}{whole} - {len(planned.numbers)} outlet(s): {listing}{powering}"


def _outlet(planned: PlannedPdu, number: int) -> str:
    feeds, behind = planned.feeds[number], planned.powers.get(number, ())
    device = feeds.split(" ", 1)[0]
    through = f": {', '.join(behind)}" if behind and tuple(behind) != (device,) else ""
    return f"{planned.name}:{number} ({feeds}{through})"
