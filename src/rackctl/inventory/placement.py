"""Rename a device, or move it to another U, face or rack, checked as `validate` checks U space."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import Conflict, ValidationError
from rackctl.inventory.models import Device, Rack
from rackctl.inventory.names import check_name
from rackctl.inventory.validate import shared_units
from rackctl.types import Face


def rename(session: Session, device: Device, new: str) -> dict[str, str]:
    """Give a device a new name (the name rule applies); its history and change log follow it."""
    check_name(new, "new name")
    if new == device.name:
        raise ValidationError(f"{device.name} already has that name")
    if session.scalars(select(Device.id).where(Device.name == new)).first() is not None:
        raise Conflict(f"a device named {new} already exists")
    old, device.name = device.name, new
    return {"from": old, "to": new}


@dataclass
class Move:
    """Where a device was and will be, and the power cords a move to another rack unplugs."""

    device: str
    before: dict[str, Any]
    after: dict[str, Any]
    unplugged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "from": self.before, "to": self.after, "unplugged": self.unplugged}


def _where(device: Device) -> dict[str, Any]:
    return {"rack": device.rack.name if device.rack else None, "u": device.position, "face": device.face.value}


def move(session: Session, device: Device, rack: Rack | None, u: int | None, face: Face | None) -> Move:
    """Move a device to U `u` / `face` of `rack` (each defaults to where it is now)."""
    if rack is None and u is None and face is None:
        raise ValidationError("nothing to change", hint="give --rack, --u or --face")
    target = rack or device.rack
    if target is None:
        raise ValidationError(f"{device.name} is in no rack", hint="give --rack")
    if u is not None and device.position is None:
        raise ValidationError(f"{device.name} is mounted at 0U (beside the rack): it has no U")
    if target is not device.rack and device.position is not None and u is None:
        raise ValidationError(f"moving {device.name} to rack {target.name} needs --u")
    plan = Move(device.name, _where(device), {})
    if target is not device.rack:
        plan.unplugged = _unplug(device, target)
        device.rack = target
    device.position = u if u is not None else device.position
    device.face = face or device.face
    _check_space(device, target)
    plan.after = _where(device)
    return plan


def _check_space(device: Device, rack: Rack) -> None:
    if device.position is None:
        return
    top = device.units.stop - 1
    if device.position < 1 or top > rack.u_height:
        raise ValidationError(
            f"{device.name} ({len(device.units)}U) at U{device.position} would reach U{top}: rack {rack.name} has"
            f" U1-U{rack.u_height}"
        )
    for other in rack.devices:
        if other is not device and other.position is not None:
            shared = shared_units(device, other)
            if shared:
                raise Conflict(
                    f"{device.name} at U{device.position} ({device.face.value}) would share U{min(shared)} with"
                    f" {other.name}"
                )


def _unplug(device: Device, rack: Rack) -> list[str]:
    """Power cords that cannot follow the device to another rack: its own into PDUs left behind, and,
    for a PDU, the devices it feeds that stay (its feed is the old rack's, so it loses that too)."""
    unplugged = []
    for port in device.power_ports:
        if port.outlet is not None and port.outlet.pdu.rack is not rack:
            unplugged.append(f"{device.name}:{port.name} from {port.outlet.label}")
            port.outlet.power_port = None
    for outlet in device.outlets:
        fed = outlet.power_port
        if fed is not None and fed.device.rack is not rack:
            unplugged.append(f"{fed.device.name}:{fed.name} from {outlet.label}")
            outlet.power_port = None
    if device.power_feed is not None:
        unplugged.append(f"{device.name} from feed {device.power_feed.rack.name}:{device.power_feed.name}")
        device.power_feed = None
    return unplugged
