"""What the lab simulates for a set of racks, read from the inventory, and the addresses it hands out.

BMCs get 127.2.x.y (IPMI) or a 127.4.x.1 server with one Redfish system per node; PDUs 127.3.x.y;
hosts a network namespace on 10.250.0.0/16. The lab records the inventory's previous values and puts
them back on `lab down`.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rackctl.errors import NotFound
from rackctl.inventory.models import Device, HostKey, Interface, IpAddress, Rack
from rackctl.lab.state import LabState
from rackctl.types import InterfaceKind, MgmtProtocol, NodeState

IPMI_NET = ipaddress.ip_network("127.2.0.0/16")
PDU_NET = ipaddress.ip_network("127.3.0.0/16")
REDFISH_NET = ipaddress.ip_network("127.4.0.0/16")
POWERED_STATES = frozenset({NodeState.POWERED, NodeState.PROVISIONED, NodeState.VALIDATED, NodeState.IN_SERVICE})


def loopback(network: ipaddress.IPv4Network, index: int) -> str:
    """Address number `index` of a 127.x/16 block, skipping .0 and .255 of every /24."""
    third, fourth = divmod(index, 254)
    if third > 255:
        raise ValueError(f"more than {256 * 254} lab endpoints")
    return str(network.network_address + third * 256 + fourth + 1)


def _port_free(address: str, port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def free_loopback(network: ipaddress.IPv4Network, count: int, port: int, tcp: bool = False) -> list[str]:
    """`count` addresses of the block on which nothing listens on `port` yet (another lab may)."""
    kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
    found: list[str] = []
    index = 0
    while len(found) < count:
        address = loopback(network, index)
        if _port_free(address, port, kind):
            found.append(address)
        index += 1
    return found


@dataclass(frozen=True)
class NodePlan:
    """One device the lab simulates, with what its simulator must report."""

    name: str
    rack: str
    role: str
    protocol: str  # ipmi, redfish, snmp (PDUs) ...
    manufacturer: str
    model: str
    serial: str
    gpus: int
    psus: tuple[str, ...]
    draw_w: int
    power_on: bool
    bmc_firmware: str
    outlets: tuple[tuple[str, str, int], ...] = ()  # (PSU, PDU name, outlet number)
    bios_firmware: str = ""
    platform: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def racks_for(session: Session, names: list[str]) -> list[Rack]:
    if not names:
        return list(session.scalars(select(Rack).order_by(Rack.name)))
    found = {r.name: r for r in session.scalars(select(Rack).where(Rack.name.in_(names)))}
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(f"no rack named {', '.join(missing)}")
    return [found[n] for n in names]


def node_plan(device: Device) -> NodePlan:
    dtype = device.device_type
    profile = device.profile
    return NodePlan(
        name=device.name,
        rack=device.rack.name if device.rack else "",
        role=device.role.value,
        protocol=device.mgmt.protocol.value if device.mgmt else "",
        manufacturer=dtype.manufacturer,
        model=dtype.model,
        serial=device.serial or f"LAB{device.id:06d}",
        gpus=dtype.gpu_count,
        psus=tuple(p.name for p in device.power_ports),
        draw_w=dtype.draw_w,
        power_on=device.state in POWERED_STATES,
        bmc_firmware=(profile.bmc_firmware if profile and profile.bmc_firmware else "1.0"),
        outlets=tuple((p.name, p.outlet.pdu.name, p.outlet.number) for p in device.power_ports if p.outlet),
        platform=device.platform or "",
        bios_firmware=(profile.bios_firmware if profile and profile.bios_firmware else ""),
    )


def plan_lab(session: Session, rack_names: list[str]) -> list[NodePlan]:
    """Every device in the racks that has a management endpoint, in rack and U order."""
    plans = []
    for rack in racks_for(session, rack_names):
        for device in sorted(rack.devices, key=lambda d: (d.position or 0, d.name)):
            if device.mgmt is not None:
                plans.append(node_plan(device))
    return plans


def host_interface(device: Device) -> Interface | None:
    """Where the host's address lives: the interface that has one, else its first bond or Ethernet port."""
    with_address = [
        i for i in device.interfaces if i.addresses and i.kind in (InterfaceKind.BOND, InterfaceKind.ETHERNET)
    ]
    if with_address:
        return with_address[0]
    bonds = [i for i in device.interfaces if i.kind == InterfaceKind.BOND]
    ethernet = [i for i in device.interfaces if i.kind == InterfaceKind.ETHERNET and not i.mgmt_only]
    return (bonds or ethernet or [None])[0]


def _remember(state: LabState, device: Device) -> None:
    if device.name in state.restore:
        return
    mgmt = device.mgmt
    iface = host_interface(device)
    state.restore[device.name] = {
        "mgmt": None
        if mgmt is None
        else {
            "address": mgmt.address,
            "port": mgmt.port,
            "username": mgmt.username,
            "credential_ref": mgmt.credential_ref,
            "system_id": mgmt.system_id,
            "protocol": mgmt.protocol.value,
            "detected": mgmt.detected_protocol.value if mgmt.detected_protocol else None,
            "verify_tls": mgmt.verify_tls,
            "options": dict(mgmt.options or {}),
        },
        "host": None if iface is None else {"interface": iface.name, "addresses": [a.cidr for a in iface.addresses]},
        "host_keys": [_key_fields(k) for k in device.host_keys],
    }


_KEY_FIELDS = ("key_type", "key", "fingerprint", "address", "source", "trusted_at", "trusted_by")


def _pins(keys: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(k["key_type"], k["key"]) for k in keys}


def _key_fields(key: HostKey) -> dict[str, Any]:
    fields = {name: getattr(key, name) for name in _KEY_FIELDS}
    return fields | {"trusted_at": key.trusted_at.isoformat()}


def devices_named(session: Session, names: list[str]) -> dict[str, Device]:
    """The devices the lab rewrites, loaded in one query with what it touches."""
    query = (
        select(Device)
        .where(Device.name.in_(names))
        .options(selectinload(Device.mgmt), selectinload(Device.interfaces).selectinload(Interface.addresses))
    )
    return {d.name: d for d in session.scalars(query)}


def write_mgmt(state: LabState, device: Device, values: dict[str, Any]) -> None:
    """Point a device's management endpoint at its simulator (remembering the old values)."""
    _remember(state, device)
    assert device.mgmt is not None
    for key, value in values.items():
        setattr(device.mgmt, key, MgmtProtocol(value) if key == "protocol" else value)
    device.mgmt.detected_protocol = None


def set_host_address(session: Session, device: Device, address: str, prefix: int) -> None:
    """Make `address` the one address rackctl reaches the host on (its bond's, usually)."""
    iface = host_interface(device)
    if iface is None:
        return
    iface.addresses.clear()
    session.flush()
    iface.addresses.append(IpAddress(address=address, prefix_len=prefix))


def write_host_address(session: Session, state: LabState, device: Device, address: str, prefix: int) -> None:
    """Point a device's host address at its lab host (remembering the old one)."""
    _remember(state, device)
    set_host_address(session, device, address, prefix)


def restore_inventory(session: Session, state: LabState) -> None:
    """Put back what the inventory held before the lab rewrote it."""
    for name, saved in state.restore.items():
        device = session.scalars(select(Device).where(Device.name == name)).one_or_none()
        if device is None:
            continue
        if saved.get("mgmt") and device.mgmt is not None:
            mgmt = dict(saved["mgmt"])
            device.mgmt.protocol = MgmtProtocol(mgmt.pop("protocol"))
            detected = mgmt.pop("detected")
            device.mgmt.detected_protocol = MgmtProtocol(detected) if detected else None
            for key, value in mgmt.items():
                setattr(device.mgmt, key, value)
        if saved.get("host"):
            _restore_host(session, device, saved["host"])
        if _pins(saved.get("host_keys", [])) != _pins([_key_fields(k) for k in device.host_keys]):
            device.host_keys.clear()  # the lab pinned its hosts' key: the device's own pins come back
            session.flush()
            for key in saved["host_keys"]:
                device.host_keys.append(HostKey(**{**key, "trusted_at": datetime.fromisoformat(key["trusted_at"])}))


def _restore_host(session: Session, device: Device, saved: dict[str, Any]) -> None:
    iface = device.interface(saved["interface"])
    if iface is None:
        return
    iface.addresses.clear()
    session.flush()
    for cidr in saved["addresses"]:
        address, prefix = cidr.split("/")
        iface.addresses.append(IpAddress(address=address, prefix_len=int(prefix)))
