"""The inventory as Ansible's dynamic inventory JSON: groups by rack, role, state and profile.

Host variables come from the device's profile (what to install), its interfaces and bonds (how to
configure the network) and its management endpoint. The Ansible inventory script in `inventory/`
and `rackctl export ansible-inventory` both print exactly this.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from rackctl.inventory.models import Device, Interface
from rackctl.services.switch.intent import host_network
from rackctl.services.switch.plan import is_switch, load_plan
from rackctl.types import InterfaceKind


def group_name(prefix: str, value: str) -> str:
    """An Ansible-safe group name: letters, digits and underscores."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', value)}"


def host_address(device: Device) -> str | None:
    """The address Ansible connects to: the first host address, bonds first."""
    ordered = sorted(device.interfaces, key=lambda i: i.kind != InterfaceKind.BOND)
    for interface in ordered:
        if interface.addresses:
            return interface.addresses[0].address
    return None


def _bond_vars(bond: Interface) -> dict[str, Any]:
    return {
        "name": bond.name,
        "members": [m.name for m in bond.members],
        "mtu": bond.mtu,
        "addresses": [a.cidr for a in bond.addresses],
    }


def _network_vars(device: Device) -> dict[str, Any] | None:
    """The host side of the switch intent (bond members, MTU, VLANs), so host and switch always agree."""
    session = object_session(device)
    if session is None or is_switch(device):
        return None
    network = host_network(device, load_plan(session, [device]))
    return network.as_dict() if network.bonds or network.links else None


def host_vars(device: Device) -> dict[str, Any]:
    profile = device.profile
    data: dict[str, Any] = {
        "rackctl_role": device.role.value,
        "rackctl_rack": device.rack.name if device.rack else None,
        "rackctl_state": device.state.value,
        "rackctl_device_type": device.device_type.slug,
        "rackctl_gpu_model": device.device_type.gpu_model,
        "rackctl_gpu_count": device.device_type.gpu_count,
        "rackctl_profile": profile.as_dict() if profile else None,
        "rackctl_bonds": [_bond_vars(i) for i in device.interfaces if i.kind == InterfaceKind.BOND],
        "rackctl_interfaces": [
            {
                "name": i.name,
                "kind": i.kind.value,
                "mac": i.mac,
                "mtu": i.mtu,
                "speed_mbps": i.speed_mbps,
                "sriov_vfs": i.sriov_vfs,
                "bond": i.bond.name if i.bond else None,
            }
            for i in device.interfaces
            if i.kind in (InterfaceKind.ETHERNET, InterfaceKind.INFINIBAND)
        ],
    }
    network = _network_vars(device)
    if network:
        data["rackctl_network"] = network
    address = host_address(device)
    if address:
        data["ansible_host"] = address
    if device.mgmt and device.mgmt.address:
        data["rackctl_mgmt"] = {
            "protocol": device.mgmt.effective_protocol.value,
            "address": device.mgmt.address,
        }
    return data


def ansible_inventory(session: Session, names: list[str] | None = None) -> dict[str, Any]:
    """The `--list` answer of an Ansible dynamic inventory."""
    query = select(Device).order_by(Device.name)
    if names is not None:
        query = query.where(Device.name.in_(names))
    groups: dict[str, list[str]] = defaultdict(list)
    hostvars: dict[str, Any] = {}
    for device in session.scalars(query):
        hostvars[device.name] = host_vars(device)
        groups[group_name("role", device.role.value)].append(device.name)
        groups[group_name("state", device.state.value)].append(device.name)
        if device.rack:
            groups[group_name("rack", device.rack.name)].append(device.name)
        if device.profile:
            groups[group_name("profile", device.profile.name)].append(device.name)
    result: dict[str, Any] = {"_meta": {"hostvars": hostvars}}
    result["all"] = {"children": ["ungrouped", *sorted(groups)]}
    result["ungrouped"] = {"hosts": []}
    for name in sorted(groups):
        result[name] = {"hosts": groups[name]}
    return result


def inventory_document(
    host: str | None = None, db_url: str | None = None, names: list[str] | None = None
) -> dict[str, Any]:
    """What the Ansible inventory script prints: everything (`--list`, or only `names`) or one host's variables."""
    from rackctl.config import load_settings
    from rackctl.inventory.db import Database, require_schema

    db = Database(db_url or load_settings().resolved_db_url)
    try:
        require_schema(db)
        with db.transaction() as session:
            if host is None:
                return ansible_inventory(session, names)
            return ansible_inventory(session, [host])["_meta"]["hostvars"].get(host, {})
    finally:
        db.dispose()
