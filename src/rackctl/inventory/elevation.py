"""A rack drawn U by U, top to bottom, the way a technician reads it standing in front of it."""

from __future__ import annotations

from dataclasses import dataclass

from rackctl.inventory import powermodel as pm
from rackctl.inventory.models import Device, Rack


@dataclass(frozen=True)
class Slot:
    """One rack unit: empty, the top unit of a device, or a unit a device above continues into."""

    u: int
    device: str | None = None
    role: str | None = None
    draw_w: int | None = None
    face: str | None = None
    continued: bool = False


def elevation(rack: Rack) -> tuple[list[Slot], list[Device]]:
    """The slots from the top U down, and the 0U devices (vertical PDUs) beside the rack."""
    by_unit: dict[int, Device] = {}
    for device in rack.devices:
        for u in device.units:
            by_unit.setdefault(u, device)
    slots = []
    for u in range(rack.u_height, 0, -1):
        device = by_unit.get(u)
        if device is None:
            slots.append(Slot(u))
            continue
        top = device.units.stop - 1
        slots.append(Slot(u, device.name, device.role.value, pm.draw_w(device), device.face.value, u != top))
    zero_u = [d for d in rack.devices if d.position is None]
    return slots, zero_u
