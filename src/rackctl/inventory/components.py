"""Give a new device the interfaces, power ports and outlets its device type declares."""

from __future__ import annotations

from rackctl.inventory.models import Device, DeviceType, Interface, PduOutlet, PowerPort
from rackctl.types import InterfaceKind


def populate(device: Device, dtype: DeviceType) -> None:
    """Add the type's components to a device that has none yet."""
    device.interfaces = [
        Interface(name=t.name, kind=t.kind, type=t.type, speed_mbps=t.speed_mbps, mgmt_only=t.mgmt_only)
        for t in dtype.interfaces
    ] + [Interface(name=c.name, kind=InterfaceKind.CONSOLE, type=c.type) for c in dtype.console_ports]
    device.power_ports = [
        PowerPort(name=p.name, type=p.type, maximum_draw_w=p.maximum_draw_w, allocated_draw_w=p.allocated_draw_w)
        for p in dtype.power_ports
    ]
    device.outlets = [
        PduOutlet(
            number=_outlet_number(o.name, i),
            name=o.name,
            type=o.type,
            phase=_phase(o.feed_leg),
            rating_a=_OUTLET_RATING_A.get(o.type or ""),
        )
        for i, o in enumerate(dtype.outlets, start=1)
    ]


def outlet_numbers(dtype: DeviceType) -> list[int]:
    """The outlet numbers a device of this type has (what `populate` gives it)."""
    return [_outlet_number(o.name, i) for i, o in enumerate(dtype.outlets, start=1)]


# What an IEC 60320 outlet may carry (IEC rating; UL lists C13 at 15 A, C19 at 20 A).
_OUTLET_RATING_A = {"iec-60320-c13": 10.0, "iec-60320-c19": 16.0, "iec-60320-c5": 2.5, "iec-60320-c7": 2.5}


def _outlet_number(name: str, position: int) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits and name.strip().isdigit() else position


def _phase(feed_leg: str | None) -> str | None:
    # NetBox's feed_leg A/B/C names the phase of a three-phase input.
    return {"A": "L1", "B": "L2", "C": "L3"}.get((feed_leg or "").upper(), feed_leg)
