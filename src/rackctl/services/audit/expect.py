"""Expected state per layer, read from the inventory: device type, profile, interfaces and bonds,
cables, outlets, feeds and lifecycle state. A switch's expected configuration is the switch engine's
(services/switch), taken as it renders it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from rackctl.inventory import powermodel as pm
from rackctl.inventory import queries
from rackctl.inventory.models import Cable, Device, Interface, Profile, Rack
from rackctl.services.audit.compare_common import ENERGISED
from rackctl.services.audit.state import (
    BmcExpected,
    BondPlan,
    CablingExpected,
    FeedPlan,
    HostExpected,
    LinkPlan,
    NicPlan,
    OutletPlan,
    PduExpected,
)
from rackctl.services.bmc import baseline
from rackctl.types import InterfaceKind

HOST_PORT_KINDS = frozenset({InterfaceKind.ETHERNET, InterfaceKind.INFINIBAND})

CableMap = dict[int, Cable]


def cable_map(session: Session, devices: Iterable[Device]) -> CableMap:
    """Interface id -> its cable, for every interface of the devices (one query per 500 interfaces)."""
    ids = [i.id for d in devices for i in d.interfaces]
    found: CableMap = {}
    for chunk in queries.in_batches(ids):
        query = select(Cable).where(or_(Cable.a_id.in_(chunk), Cable.b_id.in_(chunk))).options(*_FAR_ENDS)
        for cable in session.scalars(query):
            found[cable.a_id] = found[cable.b_id] = cable
    return found


# Both ends of each cable with their devices, in the cable query: the far end is read for every port.
_FAR_ENDS = [selectinload(end).selectinload(Interface.device) for end in (Cable.a, Cable.b)]


def _far(interface: Interface, cables: CableMap) -> Interface | None:
    cable = cables.get(interface.id)
    return cable.far_end(interface) if cable else None


def serving_unit(device: Device) -> str | None:
    """The systemd unit of the serving runtime: the profile's extra.serving_unit, else '<runtime>.service'."""
    profile = device.profile
    if profile is None or not profile.serving_runtime:
        return None
    return str(profile.extra.get("serving_unit") or f"{profile.serving_runtime}.service")


def _nic_plan(interface: Interface, cables: CableMap, profile_vfs: int | None) -> NicPlan:
    bond = interface.bond
    vfs = interface.sriov_vfs or (profile_vfs if bond is not None and profile_vfs is not None else 0)
    mtu = interface.mtu if interface.mtu is not None else (bond.mtu if bond is not None else None)
    return NicPlan(interface.name, interface.speed_mbps, mtu, vfs, cabled=interface.id in cables)


def _bond_plan(bond: Interface, profile: Profile | None) -> BondPlan:
    mtu = bond.mtu if bond.mtu is not None else (profile.mtu if profile else None)
    return BondPlan(bond.name, profile.bond_mode if profile else None, tuple(m.name for m in bond.members), mtu)


def host_expected(device: Device, cables: CableMap) -> HostExpected:
    """What the GPU node's OS must show: its device type's GPUs, its profile's stack, its ports and bonds."""
    profile, dtype = device.profile, device.device_type
    ports = [i for i in device.interfaces if i.kind in HOST_PORT_KINDS and not i.mgmt_only]
    bonds = [i for i in device.interfaces if i.kind == InterfaceKind.BOND]
    extra = profile.extra if profile else {}
    return HostExpected(
        device=device.name,
        state=device.state,
        gpu_model=dtype.gpu_model,
        gpu_count=dtype.gpu_count,
        nvidia_driver=profile.nvidia_driver if profile else None,
        fabric_manager=profile.fabric_manager if profile else None,
        cuda=profile.cuda if profile else None,
        dcgm=profile.dcgm if profile else None,
        kernel=extra.get("kernel"),
        serving_runtime=profile.serving_runtime if profile else None,
        serving_unit=serving_unit(device),
        serving_port=profile.serving_port if profile else None,
        bonds=tuple(_bond_plan(b, profile) for b in bonds),
        nics=tuple(_nic_plan(i, cables, profile.sriov_vfs if profile else None) for i in ports),
    )


def bmc_expected(device: Device) -> BmcExpected:
    profile = device.profile
    return BmcExpected(
        device=device.name,
        state=device.state,
        serial=device.serial,
        model=device.device_type.model,
        bmc_firmware=profile.bmc_firmware if profile else None,
        bios_firmware=profile.bios_firmware if profile else None,
        firmware=baseline.parse(profile.firmware, f"profile {profile.name}") if profile and profile.firmware else {},
        bios=dict(profile.bios) if profile and profile.bios else {},
    )


def cabling_expected(device: Device, cables: CableMap) -> CablingExpected:
    """The cables on the device's Ethernet ports whose far end speaks LLDP (not BMC or serial ports)."""
    links = []
    for interface in device.interfaces:
        far = _far(interface, cables)
        if interface.kind == InterfaceKind.ETHERNET and far is not None and far.kind == InterfaceKind.ETHERNET:
            links.append(LinkPlan(interface.name, far.device.name, far.name))
    return CablingExpected(device.name, tuple(links))


def pdu_expected(pdu: Device) -> PduExpected:
    outlets = []
    for outlet in pdu.outlets:
        port = outlet.power_port
        if port is None:
            continue
        owner = port.device
        outlets.append(
            OutletPlan(outlet.number, f"{owner.name} {port.name}", owner.state, must_be_on=owner.state in ENERGISED)
        )
    feed = pdu.power_feed.name if pdu.power_feed else None
    return PduExpected(pdu.name, feed, pm.pdu_usable_w(pdu), tuple(outlets))


def feed_plan(rack: Rack) -> FeedPlan:
    return FeedPlan(
        rack=rack.name,
        usable_w={f.name: f.usable_w for f in rack.feeds},
        pdus={f.name: tuple(p.name for p in f.pdus) for f in rack.feeds},
    )
