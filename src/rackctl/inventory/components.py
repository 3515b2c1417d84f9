"""Give a new device the interfaces, power ports and outlets its device type declares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.inventory.models import Device, DeviceType, Interface, PduOutlet, PowerPort
from rackctl.inventory.models.devicetype import (
    DeviceTypeConsolePort,
    DeviceTypeInterface,
    DeviceTypeOutlet,
    DeviceTypePowerPort,
)
from rackctl.types import InterfaceKind


def populate(device: Device, dtype: DeviceType) -> None:
    """Add the type's components to a device that has none yet."""
    interfaces, power_ports, outlets = component_values(
        dtype.interfaces, dtype.console_ports, dtype.power_ports, dtype.outlets
    )
    device.interfaces = [Interface(**values) for values in interfaces]
    device.power_ports = [PowerPort(**values) for values in power_ports]
    device.outlets = [PduOutlet(**values) for values in outlets]


Values = list[dict[str, Any]]
Rows = Iterable[Any]  # the type's component objects, or rows of their tables: read by attribute
Components = tuple[Values, Values, Values]


def components_by_type(session: Session, types: Iterable[DeviceType]) -> dict[int, Components]:
    """`component_values` of each type, read as plain rows in four queries (loading them as objects cost more)."""
    ids = [t.id for t in types]
    found: list[dict[int, list[Any]]] = []
    for model in (DeviceTypeInterface, DeviceTypeConsolePort, DeviceTypePowerPort, DeviceTypeOutlet):
        table = model.__table__
        rows: dict[int, list[Any]] = {i: [] for i in ids}
        for row in session.execute(select(table).where(table.c.device_type_id.in_(ids)).order_by(table.c.id)):
            rows[row.device_type_id].append(row)
        found.append(rows)
    return {i: component_values(*(rows[i] for rows in found)) for i in ids}


def component_values(interfaces: Rows, console_ports: Rows, power_ports: Rows, outlets: Rows) -> Components:
    """The column values of a new device's interfaces, power ports and outlets, from its type's components."""
    interface_values = [
        {"name": t.name, "kind": t.kind, "type": t.type, "speed_mbps": t.speed_mbps, "mgmt_only": t.mgmt_only}
        for t in interfaces
    ] + [{"name": c.name, "kind": InterfaceKind.CONSOLE, "type": c.type} for c in console_ports]
    port_values = [
        {"name": p.name, "type": p.type, "maximum_draw_w": p.maximum_draw_w, "allocated_draw_w": p.allocated_draw_w}
        for p in power_ports
    ]
    outlet_values = [
        {
            "number": _outlet_number(o.name, i),
            "name": o.name,
            "type": o.type,
            "phase": _phase(o.feed_leg),
            "rating_a": _OUTLET_RATING_A.get(o.type or ""),
        }
        for i, o in enumerate(outlets, start=1)
    ]
    return interface_values, port_values, outlet_values


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
