"""Take things out of the inventory: devices (with their cables, outlets and addresses), racks, sites and
device types, each checked against the lifecycle first and planned before anything is deleted.

A plan lists every object that goes, so `--dry-run` and the real run say the same thing; applying it
deletes through the session, so the change log records each object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rackctl.errors import Conflict, ValidationError
from rackctl.inventory.lifecycle import LIVE_STATES
from rackctl.inventory.models import Cable, Device, DeviceType, Rack, Site
from rackctl.targets import fold


@dataclass
class Removal:
    """What one removal deletes (and what it leaves changed), for the plan and for the deletion."""

    devices: list[Device] = field(default_factory=list)
    cables: list[Cable] = field(default_factory=list)
    racks: list[Rack] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    device_types: list[DeviceType] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Counts and names of everything that goes, for people and for --json."""
        ports = [p for d in self.devices for p in d.power_ports if p.outlet is not None]
        return {
            "sites": [s.name for s in self.sites],
            "racks": [r.name for r in self.racks],
            "devices": [d.name for d in self.devices],
            "device_types": [t.slug for t in self.device_types],
            "interfaces": sum(len(d.interfaces) for d in self.devices),
            "addresses": sorted(a.cidr for d in self.devices for i in d.interfaces for a in i.addresses),
            "management": sorted(d.mgmt.address for d in self.devices if d.mgmt and d.mgmt.address),
            "cables": sorted(f"{c.a.label} - {c.b.label}" for c in self.cables),
            "outlets_freed": sorted(p.outlet.label for p in ports if p.outlet and p.outlet.pdu not in self.devices),
            "pdu_outlets": sum(len(d.outlets) for d in self.devices),
        }

    def apply(self, session: Session) -> None:
        # Cables first: the database would drop them with their interfaces, unseen by the change log.
        for obj in [*self.cables, *self.devices, *[f for r in self.racks for f in r.feeds], *self.racks]:
            session.delete(obj)
        session.flush()
        for obj in [*self.sites, *self.device_types]:
            session.delete(obj)
        session.flush()


def _live(devices: list[Device]) -> list[Device]:
    return [d for d in devices if d.state in LIVE_STATES]


def _fed_live(devices: list[Device]) -> list[str]:
    """Live devices outside `devices` that a PDU among them feeds."""
    going = {d.name for d in devices}
    fed = {
        o.power_port.device
        for pdu in devices
        for o in pdu.outlets
        if o.power_port is not None and o.power_port.device.name not in going
    }
    return sorted(d.name for d in fed if d.state in LIVE_STATES)


def _guard(devices: list[Device], force: bool) -> None:
    if force:
        return
    live = _live(devices)
    if live:
        states = sorted({d.state.value for d in live})
        raise ValidationError(
            f"{fold(d.name for d in live)} {'is' if len(live) == 1 else 'are'} {'/'.join(states)}:"
            " removing a device in service loses what the fleet knows about it",
            hint="decommission first (rackctl device set NAME --state decommissioned) or pass --force",
        )
    fed = _fed_live(devices)
    if fed:
        raise ValidationError(
            f"a PDU to remove feeds {fold(fed)}, which {'is' if len(fed) == 1 else 'are'} in service",
            hint="move their power cords first, or pass --force",
        )


def _cables(session: Session, devices: list[Device]) -> list[Cable]:
    ids = [i.id for d in devices for i in d.interfaces]
    if not ids:
        return []
    return list(session.scalars(select(Cable).where(or_(Cable.a_id.in_(ids), Cable.b_id.in_(ids))).order_by(Cable.id)))


def devices(session: Session, found: list[Device], force: bool = False) -> Removal:
    """Remove devices with their interfaces, addresses, management endpoint, power ports (their outlets
    are freed), their own outlets (PDUs), cables and lifecycle history."""
    _guard(found, force)
    return Removal(devices=list(found), cables=_cables(session, found))


def rack(session: Session, target: Rack, force: bool = False) -> Removal:
    """Remove a rack with everything in it and its power feeds."""
    plan = devices(session, list(target.devices), force)
    plan.racks = [target]
    return plan


def site(session: Session, target: Site) -> Removal:
    """Remove a site that holds no racks (a site's racks go one by one: each is a decision)."""
    if target.racks:
        names = ", ".join(r.name for r in target.racks)
        raise Conflict(
            f"site {target.name} still holds rack(s) {names}", hint=f"rackctl rack delete {target.racks[0].name}"
        )
    return Removal(sites=[target])


def device_type(session: Session, target: DeviceType) -> Removal:
    """Remove a device type no device uses."""
    users = list(session.scalars(select(Device.name).where(Device.device_type_id == target.id).order_by(Device.name)))
    if users:
        raise Conflict(
            f"device type {target.slug} is used by {len(users)} device(s): {fold(users)}",
            hint="remove those devices first",
        )
    return Removal(device_types=[target])
