"""The inventory's cables as a lookup, and the rules every intent obeys (VLANs, MTUs, bonds, MLAG pairs).

Both ends of a link are computed from the same functions here, so a rule refused for the switch is
refused for the host too. A refusal is one line naming the device, the interface and the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory.models import Cable, Device, Interface, Profile
from rackctl.services.switch.model import HOST_MTU, L2_OVERHEAD, SWITCH_MTU, VLAN_MAX, VLAN_MIN
from rackctl.types import SWITCH_ROLES, InterfaceKind

VLAN_ROLES = ("tenant", "storage", "management")
DATA_KINDS = (InterfaceKind.ETHERNET, InterfaceKind.INFINIBAND)


@dataclass
class Plan:
    """Interface id -> the interface the plan cables it to."""

    far: dict[int, Interface] = field(default_factory=dict)

    def peer(self, interface: Interface) -> Interface | None:
        return self.far.get(interface.id)

    def add(self, cables: Iterable[Cable]) -> None:
        for cable in cables:
            self.far[cable.a_id] = cable.b
            self.far[cable.b_id] = cable.a


def _cables_of(session: Session, devices: Iterable[Device]) -> list[Cable]:
    ids = [i.id for d in devices for i in d.interfaces]
    if not ids:
        return []
    return list(session.scalars(select(Cable).where(or_(Cable.a_id.in_(ids), Cable.b_id.in_(ids)))))


def load_plan(session: Session, devices: Iterable[Device]) -> Plan:
    """The cables of `devices` and of every device cabled to them (an MLAG peer's, a node's other leaf)."""
    plan = Plan()
    first = list(devices)
    plan.add(_cables_of(session, first))
    neighbours = {far.device for far in plan.far.values()} - set(first)
    plan.add(_cables_of(session, neighbours))
    return plan


def is_switch(device: Device) -> bool:
    return device.role in SWITCH_ROLES


def data_ports(device: Device) -> list[Interface]:
    return [i for i in device.interfaces if i.kind in DATA_KINDS and not i.mgmt_only]


def profile_vlans(profile: Profile | None) -> dict[str, int]:
    """The profile's `extra.vlans` (tenant, storage, management), each checked to be a usable VLAN id."""
    if profile is None:
        return {}
    raw = (profile.extra or {}).get("vlans") or {}
    vlans: dict[str, int] = {}
    for role in VLAN_ROLES:
        if role in raw:
            vlans[role] = _vlan_id(profile.name, role, raw[role])
    taken: dict[int, str] = {}
    for role, vid in vlans.items():
        if vid in taken:
            raise ValidationError(f"profile {profile.name}: VLAN {vid} is both {taken[vid]} and {role}")
        taken[vid] = role
    return vlans


def _vlan_id(profile: str, role: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not VLAN_MIN <= value <= VLAN_MAX:
        raise ValidationError(
            f"profile {profile}: {role} VLAN {value!r} is out of range {VLAN_MIN}-{VLAN_MAX}",
            hint="VLAN 1 is the default VLAN and 4094 carries the MLAG peer link",
        )
    return value


def extra(profile: Profile | None, key: str) -> Any:
    return (profile.extra or {}).get(key) if profile is not None else None


def switch_mtu(profile: Profile | None) -> int:
    """The MTU the switch side uses for a node of this profile (`extra.switch_mtu`, default 9216)."""
    value = extra(profile, "switch_mtu") or SWITCH_MTU
    if not isinstance(value, int) or not 1500 <= value <= 9216:
        name = profile.name if profile else "?"
        raise ValidationError(f"profile {name}: switch_mtu {value!r} is not between 1500 and 9216")
    return value


def host_mtu(device: Device, bond: Interface | None) -> int:
    """The host's MTU on a bond (or a lone port): bond, members and profile must agree and fit the switch."""
    profile = device.profile
    profile_mtu = profile.mtu if profile else None
    mtu = (bond.mtu if bond else None) or profile_mtu or HOST_MTU
    label = f"{device.name} {bond.name}" if bond else device.name
    if profile and profile_mtu and mtu != profile_mtu:
        raise ValidationError(f"{label}: MTU {mtu} differs from profile {profile.name}'s {profile_mtu}")
    for member in bond.members if bond else []:
        if member.mtu and member.mtu != mtu:
            raise ValidationError(f"{label}: member {member.name} has MTU {member.mtu}, the bond {mtu}")
    limit = switch_mtu(device.profile)
    if mtu + L2_OVERHEAD > limit:
        raise ValidationError(
            f"{label}: host MTU {mtu} does not fit the switch MTU {limit} ({mtu} + {L2_OVERHEAD} bytes of headers)"
        )
    return mtu


def mlag_peer(switch: Device, plan: Plan) -> Device | None:
    """The switch joined to this one by a peer link: data ports cabled to a switch of the same role."""
    peers = {
        far.device
        for port in data_ports(switch)
        if (far := plan.peer(port)) is not None and far.device.role == switch.role and not far.mgmt_only
    }
    if len(peers) > 1:
        names = ", ".join(sorted(p.name for p in peers))
        raise ValidationError(f"{switch.name}: peer links to more than one switch ({names})")
    return next(iter(peers), None)


def bond_switches(node: Device, bond: Interface, plan: Plan) -> list[Device]:
    """The switches a bond's members are cabled to; refused unless one switch or one MLAG pair."""
    switches: dict[str, Device] = {}
    for member in bond.members:
        far = plan.peer(member)
        if far is None or not is_switch(far.device):
            raise ValidationError(f"{node.name} {bond.name}: member {member.name} is not cabled to a switch")
        switches[far.device.name] = far.device
    found = [switches[name] for name in sorted(switches)]
    if len(found) > 2 or (len(found) == 2 and mlag_peer(found[0], plan) is not found[1]):
        raise ValidationError(
            f"{node.name} {bond.name}: members on {' and '.join(s.name for s in found)}, "
            "which are not an MLAG pair (no peer link cabled between them)"
        )
    return found


def bonds_of(device: Device) -> list[Interface]:
    return [i for i in device.interfaces if i.kind == InterfaceKind.BOND]


def channel_numbers(switch: Device, plan: Plan) -> dict[tuple[str, str], int]:
    """(node, bond) -> port-channel number, the same on both switches of an MLAG pair."""
    peer = mlag_peer(switch, plan)
    domain = [s for s in (switch, peer) if s is not None]
    bonds = set()
    for member_switch in domain:
        for port in data_ports(member_switch):
            far = plan.peer(port)
            if far is not None and far.bond is not None and not is_switch(far.device):
                bonds.add((far.device.name, far.bond.name))
    return {key: number for number, key in enumerate(sorted(bonds), start=1)}
