"""An unmanaged power strip in the test inventory: what makes one PDU outlet feed several devices."""

from __future__ import annotations

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, DeviceType, PduOutlet, PowerPort
from rackctl.types import DeviceRole


def add_strip(db: Database) -> None:
    """A 2-outlet strip on pdu-r12-a1 outlet 3, carrying gpu-r12-u03 PSU1 and leaf-r12-a PSU1."""
    with db.transaction() as session:
        a1 = queries.device(session, "pdu-r12-a1")
        kind = DeviceType(slug="strip-c13-2", manufacturer="Generic", model="2-outlet strip", u_height=0)
        strip = Device(name="strip-r12", role=DeviceRole.PDU, device_type=kind, rack=a1.rack)
        strip.power_ports.append(PowerPort(name="Input"))
        strip.outlets.extend([PduOutlet(number=1), PduOutlet(number=2)])
        session.add(strip)
        moved = [queries.device(session, name).power_ports[0] for name in ("gpu-r12-u03", "leaf-r12-a")]
        for port in moved:
            port.outlet = None
        session.flush()
        next(o for o in a1.outlets if o.number == 3).power_port = strip.power_ports[0]
        for outlet, port in zip(strip.outlets, moved, strict=True):
            outlet.power_port = port
