"""Switch and host intent from the inventory: pure functions over the models and the cabling plan.

A leaf's node-facing ports become LACP port-channels (MLAG when the bond spans the leaf pair) trunking
the tenant VLAN untagged and the storage VLAN tagged; a management switch's ports are access ports in
the management VLAN; an InfiniBand leaf's ports get the profile's rate and partition key. The host side
(`host_network`) comes from the same functions, so both ends agree or both are refused.
"""

from __future__ import annotations

import zlib
from typing import Any

from rackctl.errors import ValidationError
from rackctl.inventory.models import Device, Interface, Profile
from rackctl.services.switch.model import (
    Breakout,
    Channel,
    HostBond,
    HostLink,
    HostNetwork,
    Mlag,
    Partition,
    Port,
    Roce,
    SwitchIntent,
    Vlan,
)
from rackctl.services.switch.plan import (
    Plan,
    bond_switches,
    bonds_of,
    channel_numbers,
    data_ports,
    extra,
    host_mtu,
    is_switch,
    mlag_peer,
    profile_vlans,
    switch_mtu,
)
from rackctl.types import DeviceRole, InterfaceKind

PLATFORMS = ("eos", "cumulus", "sonic", "nxos", "onyx", "linux")


def _platform(switch: Device) -> str:
    if switch.platform not in PLATFORMS:
        raise ValidationError(
            f"{switch.name}: platform {switch.platform!r} is not one of {', '.join(PLATFORMS)}",
            hint="set the platform in the rack template's device entry",
        )
    return switch.platform


def _neighbours(switch: Device, plan: Plan) -> list[tuple[Interface, Interface]]:
    return [(port, far) for port in data_ports(switch) if (far := plan.peer(port)) is not None]


def _attached_profiles(switch: Device, plan: Plan) -> list[Profile]:
    found = {far.device.profile.name: far.device.profile for _, far in _neighbours(switch, plan) if far.device.profile}
    return [found[name] for name in sorted(found)]


def _one_value(switch: Device, what: str, values: dict[str, Any], default: Any = None) -> Any:
    """The single value all attached profiles agree on; refused when they differ."""
    distinct = {repr(v): v for v in values.values() if v is not None}
    if len(distinct) > 1:
        listed = ", ".join(f"{v!r} ({p})" for p, v in sorted(values.items()) if v is not None)
        raise ValidationError(f"{switch.name}: attached profiles disagree on {what}: {listed}")
    return next(iter(distinct.values()), default)


def _description(far: Interface) -> str:
    return f"{far.device.name} {far.name}"


def _access_port(port: Interface, far: Interface, mtu: int, vlan: int | None) -> Port:
    return Port(port.name, _description(far), mtu, mode="access", native_vlan=vlan, peer=far.label)


def _node_port(port: Interface, far: Interface, mtu: int, channels: dict[tuple[str, str], int]) -> Port:
    vlans = profile_vlans(far.device.profile)
    roce = extra(far.device.profile, "roce") is not None
    if far.kind == InterfaceKind.INFINIBAND or port.kind == InterfaceKind.INFINIBAND:
        rate = (extra(far.device.profile, "ib") or {}).get("rate")
        return Port(port.name, _description(far), mtu, mode="ib", speed=rate, peer=far.label)
    channel = channels.get((far.device.name, far.bond.name)) if far.bond else None
    tagged = tuple(v for v in (vlans.get("tenant"), vlans.get("storage")) if v)
    return Port(
        port.name,
        _description(far),
        mtu,
        native_vlan=vlans.get("tenant"),
        vlans=tagged,
        channel=channel,
        roce=roce,
        peer=far.label,
    )


def _ports(switch: Device, plan: Plan, mtu: int, management: int | None) -> list[Port]:
    channels = channel_numbers(switch, plan)
    peer = mlag_peer(switch, plan)
    ports = []
    for port, far in _neighbours(switch, plan):
        if peer is not None and far.device is peer:
            continue  # peer links belong to the MLAG section
        if far.mgmt_only or far.kind == InterfaceKind.BMC or switch.role == DeviceRole.MGMT_SWITCH:
            vlan = profile_vlans(far.device.profile).get("management", management)
            ports.append(_access_port(port, far, mtu, vlan))
        elif is_switch(far.device):
            ports.append(Port(port.name, _description(far), mtu, peer=far.label))
        else:
            ports.append(_node_port(port, far, mtu, channels))
    return ports


def _channels(switch: Device, plan: Plan, ports: list[Port], mlag: Mlag | None) -> list[Channel]:
    by_number: dict[int, list[Port]] = {}
    for port in ports:
        if port.channel is not None:
            by_number.setdefault(port.channel, []).append(port)
    channels = []
    for number, members in sorted(by_number.items()):
        first = members[0]
        node, _, _ = first.peer.partition(":")
        bond = next(f.bond for _, f in _neighbours(switch, plan) if f.label == first.peer)
        assert bond is not None
        spans = len(bond_switches(bond.device, bond, plan)) > 1
        channels.append(
            Channel(
                number,
                f"{node} {bond.name}",
                tuple(p.name for p in members),
                first.mtu,
                first.native_vlan,
                first.vlans,
                mlag=spans and mlag is not None,
                roce=first.roce,
                peer=f"{node}:{bond.name}",
            )
        )
    return channels


def _mlag(switch: Device, plan: Plan) -> Mlag | None:
    peer = mlag_peer(switch, plan)
    if peer is None:
        return None
    if peer.platform != switch.platform:
        raise ValidationError(
            f"{switch.name} ({switch.platform}) and its MLAG peer {peer.name} ({peer.platform}) differ"
        )
    first, second = sorted((switch.name, peer.name))
    links = tuple(p.name for p, far in _neighbours(switch, plan) if far.device is peer)
    primary = switch.name == first
    domain = f"{zlib.crc32(f'{first}+{second}'.encode()) % 999 + 1}"
    local, remote = ("169.254.255.0", "169.254.255.1") if primary else ("169.254.255.1", "169.254.255.0")
    return Mlag(domain, peer.name, links, local, remote, primary)


def _vlans(ports: list[Port], profiles: list[Profile]) -> tuple[Vlan, ...]:
    used = {v for p in ports for v in (p.native_vlan, *p.vlans) if v}
    names: dict[int, str] = {}
    for profile in profiles:
        for role, vid in profile_vlans(profile).items():
            names.setdefault(vid, role)
    return tuple(Vlan(vid, names.get(vid, f"vlan{vid}")) for vid in sorted(used))


def _roce(switch: Device, profiles: list[Profile]) -> Roce | None:
    raw = _one_value(switch, "roce", {p.name: extra(p, "roce") for p in profiles})
    if raw is None:
        return None
    if not isinstance(raw, dict) or not 0 <= int(raw.get("pfc_priority", 3)) <= 7:
        raise ValidationError(f"{switch.name}: roce must be a mapping with pfc_priority 0-7, got {raw!r}")
    return Roce(int(raw.get("pfc_priority", 3)), bool(raw.get("ecn", True)))


def _partitions(switch: Device, profiles: list[Profile]) -> tuple[Partition, ...]:
    if switch.role != DeviceRole.IB_SWITCH:
        return ()
    keys = {str((extra(p, "ib") or {}).get("pkey")) for p in profiles if (extra(p, "ib") or {}).get("pkey")}
    partitions = []
    for key in sorted(keys):
        try:
            value = int(key, 16) & 0x7FFF  # the top bit marks full membership, not the key
        except ValueError:
            value = 0
        if not 0 < value < 0x7FFF:
            raise ValidationError(f"{switch.name}: partition key {key!r} is not a hex key 0x0001-0x7ffe")
        partitions.append(Partition(f"pk_{value:04x}", f"0x{value:04x}"))
    return tuple(partitions)


def _sm_priority(switch: Device, plan: Plan) -> int | None:
    if switch.role != DeviceRole.IB_SWITCH:
        return None
    fabric = {
        far.device.name
        for _, node_port in _neighbours(switch, plan)
        for ib in data_ports(node_port.device)
        if ib.kind == InterfaceKind.INFINIBAND and (far := plan.peer(ib)) is not None
    }
    # The first switch by name is the master subnet manager, the others stand by.
    return 15 if not fabric or switch.name == min(fabric) else 14


def _breakout(port: Interface) -> Breakout:
    count, _, speed = (port.breakout or "").partition("x")
    # 400G cages (QSFP-DD, OSFP) carry 8 electrical lanes, older ones 4.
    lanes = 8 if (port.speed_mbps or 0) >= 400_000 or "400g" in (port.type or "") else 4
    return Breakout(port.name, int(count), speed, lanes)


def _breakouts(switch: Device) -> tuple[Breakout, ...]:
    return tuple(_breakout(i) for i in switch.interfaces if i.breakout)


def switch_intent(switch: Device, plan: Plan) -> SwitchIntent:
    """What one switch should be configured as, from the inventory; refuses contradictory intent."""
    platform = _platform(switch)
    profiles = _attached_profiles(switch, plan)
    mtu = _one_value(switch, "switch_mtu", {p.name: switch_mtu(p) for p in profiles}, switch_mtu(None))
    management = _one_value(
        switch, "the management VLAN", {p.name: profile_vlans(p).get("management") for p in profiles}
    )
    for _, far in _neighbours(switch, plan):
        for bond in [far.bond] if far.bond is not None else []:
            bond_switches(far.device, bond, plan)
            host_mtu(far.device, bond)
    ports = _ports(switch, plan, mtu, management)
    mlag = _mlag(switch, plan)
    return SwitchIntent(
        switch.name,
        platform,
        switch.role.value,
        mtu,
        _vlans(ports, profiles),
        tuple(ports),
        tuple(_channels(switch, plan, ports, mlag)),
        mlag,
        _breakouts(switch),
        _roce(switch, profiles),
        _partitions(switch, profiles),
        _sm_priority(switch, plan),
    )


def _host_links(node: Device, plan: Plan) -> list[HostLink]:
    links = []
    for interface in data_ports(node):
        far = plan.peer(interface)
        if far is None or not is_switch(far.device):
            continue
        channel = None
        if interface.bond is not None:
            channel = channel_numbers(far.device, plan).get((node.name, interface.bond.name))
        links.append(HostLink(interface.name, far.device.name, far.name, channel))
    return links


def host_network(node: Device, plan: Plan) -> HostNetwork:
    """The host side of the intent: bonds, MTU, VLANs and the switch port behind each NIC."""
    vlans = profile_vlans(node.profile)
    bonds, vlan_interfaces = [], []
    for bond in bonds_of(node):
        bond_switches(node, bond, plan)
        mtu = host_mtu(node, bond)
        mode = (node.profile.bond_mode if node.profile else None) or "802.3ad"
        tagged = tuple(v for v in (vlans.get("storage"),) if v)
        bonds.append(HostBond(bond.name, mode, tuple(m.name for m in bond.members), mtu, vlans.get("tenant"), tagged))
        vlan_interfaces += [{"name": f"{bond.name}.{v}", "parent": bond.name, "vlan": v, "mtu": mtu} for v in tagged]
    mtu = bonds[0].mtu if bonds else host_mtu(node, None)
    return HostNetwork(
        mtu, switch_mtu(node.profile), tuple(bonds), tuple(vlan_interfaces), tuple(_host_links(node, plan))
    )
