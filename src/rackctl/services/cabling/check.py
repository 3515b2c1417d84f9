"""`cabling check`: the plan from the inventory, what switches and hosts report, and the comparison.

Switches are asked for LLDP over netmiko (TextFSM tables, or lldpctl on Linux-based switches), hosts run
`lldpctl -f json` over SSH, and one host with InfiniBand runs `ibnetdiscover` for the whole fabric.
Reported names are mapped to the inventory's (domain suffixes, MAC port ids, HCA and switch port numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from rackctl.drivers.base import Neighbour
from rackctl.errors import ConfigError
from rackctl.inventory.export import host_address
from rackctl.inventory.models import Device
from rackctl.services.cabling.compare import PlannedLink, SeenLink
from rackctl.services.endpoints import pinned_keys, ssh_endpoint
from rackctl.services.switch.plan import data_ports, is_switch, load_plan
from rackctl.types import Endpoint, InterfaceKind


@dataclass(frozen=True)
class Source:
    """A device to ask for its neighbours, and how to reach it (the secret stays a reference)."""

    name: str
    platform: str  # a switch platform, or "linux" for hosts
    address: str
    port: int | None = None
    username: str = ""
    credential_ref: str = field(default="", repr=False)
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    infiniband: bool = False  # run ibnetdiscover here

    def endpoint(self) -> Endpoint:
        """The driver's endpoint; the credential is read when the session opens, inside its deadline."""
        return ssh_endpoint(self.name, self.address, self.port, self.username, self.credential_ref, self.options)


@dataclass(frozen=True)
class Names:
    """What resolving reported names needs from the inventory, as plain values."""

    devices: frozenset[str]
    macs: dict[str, tuple[str, str]]
    ib_ports: dict[str, list[str]]  # host -> its InfiniBand interfaces, in name order (mlx5_0 is the first)
    switch_ports: dict[str, list[str]]


def _switch_source(device: Device) -> Source | None:
    mgmt = device.mgmt
    if mgmt is None or not mgmt.address:
        return None
    return Source(
        device.name,
        device.platform or "",
        mgmt.address,
        mgmt.port,
        mgmt.username,
        mgmt.credential_ref,
        {**(mgmt.options or {}), "host_keys": pinned_keys(device)},
    )


def _host_source(device: Device, ssh_user: str, ssh_key: str, infiniband: bool) -> Source | None:
    address = host_address(device)
    if address is None:
        return None
    options = {"device_type": "linux", "host_keys": pinned_keys(device), **({"key_file": ssh_key} if ssh_key else {})}
    return Source(device.name, "linux", address, None, ssh_user, "", options, infiniband)


def sources(devices: Sequence[Device], ssh_user: str, ssh_key: str) -> tuple[list[Source], list[str]]:
    """Whom to ask, and the names of devices that cannot be asked (no address in the inventory)."""
    found, skipped = [], []
    ib_host = next((d.name for d in devices if not is_switch(d) and _has_ib(d) and host_address(d)), None)
    for device in devices:
        if is_switch(device) and device.platform == "onyx":
            continue  # InfiniBand switches are seen through ibnetdiscover
        if is_switch(device):
            source = _switch_source(device)
        else:
            source = _host_source(device, ssh_user, ssh_key, device.name == ib_host)
        if source is None:
            skipped.append(device.name)
        else:
            found.append(source)
    return found, skipped


def _has_ib(device: Device) -> bool:
    return any(i.kind == InterfaceKind.INFINIBAND for i in device.interfaces)


def planned(session: Session, devices: Sequence[Device]) -> list[PlannedLink]:
    """The data cables (Ethernet, InfiniBand) with an end on the devices; the host side first."""
    plan = load_plan(session, devices)
    links = {}
    for device in devices:
        for port in data_ports(device):
            far = plan.peer(port)
            if far is None or far.kind not in (InterfaceKind.ETHERNET, InterfaceKind.INFINIBAND) or far.mgmt_only:
                continue
            a, b = (far, port) if is_switch(device) and not is_switch(far.device) else (port, far)
            links[tuple(sorted((a.label, b.label)))] = PlannedLink(a.device.name, a.name, b.device.name, b.name)
    return [links[k] for k in sorted(links)]


def names(session: Session, devices: Sequence[Device]) -> Names:
    plan = load_plan(session, devices)
    everyone = {d.name: d for d in devices} | {f.device.name: f.device for f in plan.far.values()}
    macs = {i.mac.lower(): (d.name, i.name) for d in everyone.values() for i in d.interfaces if i.mac}
    ib = {n: sorted(i.name for i in d.interfaces if i.kind == InterfaceKind.INFINIBAND) for n, d in everyone.items()}
    ports = {n: [i.name for i in d.interfaces] for n, d in everyone.items() if is_switch(d)}
    return Names(frozenset(everyone), macs, ib, ports)


_MAC = re.compile(r"^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$", re.IGNORECASE)


def looks_like_mac(port_id: str) -> bool:
    """An LLDP port id that is a MAC address (lldpd's default): the port's name is then in its description."""
    return _MAC.match(port_id) is not None


def _device_name(reported: str, known: Names) -> str:
    if reported in known.devices:
        return reported
    short = reported.split(".")[0]
    return short if short in known.devices else reported


def _ib_device(description: str) -> tuple[str, str]:
    # Switch node descriptions look like "MF0;ib-p1-1:MQM9700/U1", HCAs like "gpu-r12-u03 mlx5_0".
    match = re.match(r"^MF0;([^:]+):", description)
    if match:
        return match.group(1), ""
    host, _, hca = description.partition(" ")
    return host, hca


def _ib_port(device: str, number: str, hca: str, known: Names) -> str:
    if hca:
        index = int(hca.rsplit("_", 1)[-1]) if hca.rsplit("_", 1)[-1].isdigit() else -1
        ports = known.ib_ports.get(device, [])
        return ports[index] if 0 <= index < len(ports) else hca
    n = int(number)
    split = f"1/{(n + 1) // 2}/{2 - n % 2}"  # NOTE(NVIDIA QM9700): two NDR ports per OSFP cage
    ports = known.switch_ports.get(device, [])
    return split if split in ports else (f"1/{n}" if f"1/{n}" in ports else number)


def resolve_ib(neighbours: Sequence[Neighbour], known: Names) -> list[SeenLink]:
    """ibnetdiscover's node descriptions and port numbers as inventory devices and ports."""
    seen = []
    for n in neighbours:
        near, near_hca = _ib_device(n.device)
        far, far_hca = _ib_device(n.neighbour)
        seen.append(
            SeenLink(
                near, _ib_port(near, n.port, near_hca, known), far, _ib_port(far, n.neighbour_port, far_hca, known)
            )
        )
    return seen


def resolve_lldp(neighbours: Sequence[Neighbour], known: Names) -> list[SeenLink]:
    """LLDP reports with the far end's name and port mapped to the inventory (MAC port ids included)."""
    seen = []
    for n in neighbours:
        far = _device_name(n.neighbour, known)
        port = n.neighbour_port
        by_mac = known.macs.get(port.lower())
        if by_mac and by_mac[0] == far:
            port = by_mac[1]
        elif looks_like_mac(port) and n.neighbour_port_description:
            port = n.neighbour_port_description  # lldpd sends the MAC as port id, the ifname as description
        seen.append(SeenLink(n.device, n.port, far, port))
    return seen


def read_one(source: Source) -> tuple[list[Neighbour], list[Neighbour]]:
    """(LLDP neighbours, InfiniBand neighbours) one device reports."""
    from rackctl.drivers.switch_netmiko import NetmikoSwitch

    if not source.platform:
        raise ConfigError(f"{source.name}: no platform in the inventory")
    with NetmikoSwitch(source.endpoint(), source.platform) as device:
        lldp = device.neighbours()
        fabric = device.ib_neighbours() if source.infiniband else []
    return lldp, fabric
