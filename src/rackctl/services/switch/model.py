"""What a switch and a host should look like: plain values computed from the inventory, rendered per platform.

Everything here is frozen and made of strings, numbers and tuples, so that intent can be compared,
printed as JSON and handed to Jinja2 templates without touching the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The switch carries the host's 9000-byte frames plus Ethernet and VLAN headers with room to spare.
SWITCH_MTU = 9216
HOST_MTU = 9000
# Ethernet header (14) and one 802.1Q tag (4): what a host frame adds on the wire.
L2_OVERHEAD = 18
# 1 is every switch's default VLAN and 4094 carries the MLAG peer's control traffic.
VLAN_MIN, VLAN_MAX = 2, 4093
MLAG_PEER_VLAN = 4094
PEER_LINK_CHANNEL = 1000
# Until the host's bond is up (PXE, installer) the switch lets one member forward on its own.
LACP_FALLBACK_TIMEOUT_S = 30


@dataclass(frozen=True)
class Vlan:
    id: int
    name: str


@dataclass(frozen=True)
class Port:
    """One switch port: what faces it, how it forwards."""

    name: str
    description: str
    mtu: int
    mode: str = "trunk"  # trunk (native + tagged), access, ib
    native_vlan: int | None = None
    vlans: tuple[int, ...] = ()
    channel: int | None = None  # the port-channel this port is a member of
    speed: str | None = None  # InfiniBand rate (hdr, ndr) or Ethernet speed
    roce: bool = False
    peer: str = ""  # "device:interface" the plan cables to this port


@dataclass(frozen=True)
class Channel:
    """A LACP port-channel (bond); `mlag` when its members span an MLAG pair."""

    number: int
    description: str
    members: tuple[str, ...]
    mtu: int
    native_vlan: int | None
    vlans: tuple[int, ...]
    mlag: bool = False
    fallback: bool = True
    roce: bool = False
    peer: str = ""  # the host and bond on the far side


@dataclass(frozen=True)
class Mlag:
    """This switch's half of an MLAG pair joined by a peer link."""

    domain: str
    peer: str
    peer_links: tuple[str, ...]
    local_address: str
    peer_address: str
    primary: bool
    channel: int = PEER_LINK_CHANNEL
    vlan: int = MLAG_PEER_VLAN


@dataclass(frozen=True)
class Breakout:
    """A port split into `count` ports of `speed` (4x100g); `lanes` is the cage's electrical lanes."""

    port: str
    count: int
    speed: str
    lanes: int = 8


@dataclass(frozen=True)
class Roce:
    """Lossless RoCE: PFC on one priority and ECN marking."""

    pfc_priority: int = 3
    ecn: bool = True


@dataclass(frozen=True)
class Partition:
    """An InfiniBand partition key and the ports that are full members."""

    name: str
    pkey: str
    members: str = "all"


@dataclass(frozen=True)
class SwitchIntent:
    name: str
    platform: str
    role: str
    mtu: int
    vlans: tuple[Vlan, ...] = ()
    ports: tuple[Port, ...] = ()
    channels: tuple[Channel, ...] = ()
    mlag: Mlag | None = None
    breakouts: tuple[Breakout, ...] = ()
    roce: Roce | None = None
    partitions: tuple[Partition, ...] = ()
    sm_priority: int | None = None  # InfiniBand subnet manager priority, None: no SM here

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HostLink:
    """One host NIC and the switch port the plan cables it to."""

    interface: str
    switch: str
    port: str
    channel: int | None = None


@dataclass(frozen=True)
class HostBond:
    name: str
    mode: str
    members: tuple[str, ...]
    mtu: int
    native_vlan: int | None
    vlans: tuple[int, ...]
    lacp_rate: str = "fast"
    xmit_hash_policy: str = "layer3+4"


@dataclass(frozen=True)
class HostNetwork:
    """The host side of the same intent: what Ansible configures on the node."""

    mtu: int
    switch_mtu: int
    bonds: tuple[HostBond, ...] = ()
    vlan_interfaces: tuple[dict[str, Any], ...] = ()
    links: tuple[HostLink, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
