"""Which switched PDU outlets feed a device, and what else each of them feeds.

A power supply plugged into a PDU rackctl can switch (role pdu, managed over SNMP) is fed by that
outlet. One plugged into an unmanaged strip (a device with outlets and no SNMP agent) is fed by the
switched outlet the strip hangs off - which then also feeds everything else on the strip.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rackctl.inventory.models import Device, PduOutlet, PowerPort
from rackctl.types import DeviceRole, MgmtProtocol

MAX_CHAIN = 4  # strips on strips: deeper than this is a data error, not a rack


@dataclass(frozen=True)
class Feed:
    """One switched outlet feeding a device: which of its PSUs, and which other devices."""

    pdu: str
    outlet: int
    feed: str  # the power feed (A, B) of the PDU; empty when unknown
    psus: tuple[str, ...]
    others: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.pdu}:{self.outlet}"


def is_switched(device: Device) -> bool:
    """A PDU rackctl can switch: it has an SNMP agent."""
    return device.role == DeviceRole.PDU and device.mgmt is not None and device.mgmt.protocol == MgmtProtocol.SNMP


def upstream(port: PowerPort, depth: int = 0) -> list[PduOutlet]:
    """The switched outlets a power supply hangs off (several when a strip has two inputs)."""
    outlet = port.outlet
    if outlet is None or depth > MAX_CHAIN:
        return []
    if is_switched(outlet.pdu):
        return [outlet]
    return [o for strip_input in outlet.pdu.power_ports for o in upstream(strip_input, depth + 1)]


def downstream(outlet: PduOutlet, depth: int = 0) -> set[str]:
    """Every device an outlet powers, through strips."""
    port = outlet.power_port
    if port is None or depth > MAX_CHAIN:
        return set()
    device = port.device
    if not device.outlets:
        return {device.name}
    return {name for o in device.outlets for name in downstream(o, depth + 1)}


def feeds_of(device: Device) -> list[Feed]:
    """The switched outlets feeding the device, in PDU and outlet order."""
    psus: dict[int, list[str]] = defaultdict(list)
    outlets: dict[int, PduOutlet] = {}
    for port in device.power_ports:
        for outlet in upstream(port):
            psus[outlet.id].append(port.name)
            outlets[outlet.id] = outlet
    feeds = [
        Feed(o.pdu.name, o.number, o.feed or "", tuple(psus[o.id]), tuple(sorted(downstream(o) - {device.name})))
        for o in outlets.values()
    ]
    return sorted(feeds, key=lambda f: (f.pdu, f.outlet))


def unfed(device: Device) -> list[str]:
    """Power supplies no switched outlet feeds (unplugged, or on gear rackctl cannot switch)."""
    return [p.name for p in device.power_ports if not upstream(p)]
