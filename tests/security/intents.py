"""A switch intent that exercises every part of every platform's template (ports of each mode, port-channels,
MLAG, breakouts, VLANs, RoCE, InfiniBand partitions), with its strings replaceable one by one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rackctl.services.switch.model import Breakout, Channel, Mlag, Partition, Port, Roce, SwitchIntent, Vlan


def intent(platform: str, names: dict[str, str] | None = None, descriptions: list[str] | None = None) -> SwitchIntent:
    """The intent for `platform`; `names` replaces names by role, `descriptions` the free text in order."""
    n = {
        "switch": "leaf-r12-a",
        "peer": "leaf-r12-b",
        "node": "gpu-r12-u03",
        "port": "Ethernet1/1",
        "access": "Ethernet2/1",
        "member": "Ethernet3/1",
        "link": "Ethernet31/1",
        "vlan": "tenant",
        "breakout": "Ethernet29/1",
        **(names or {}),
    }
    d = [*(descriptions or []), "gpu-r12-u03 ens1f0np0", "bmc-r12-u03 BMC", "gpu-r12-u03 bond0", "ib port"][:4]
    ports = (
        Port(n["port"], d[0], 9216, native_vlan=100, vlans=(100, 200), roce=True, peer=f"{n['node']}:ens1f0np0"),
        Port(n["access"], d[1], 9216, mode="access", native_vlan=10, peer=f"{n['node']}:BMC"),
        Port(n["member"], d[2], 9216, native_vlan=100, vlans=(100, 200), channel=1, peer=f"{n['node']}:ens1f1np1"),
    )
    if platform == "onyx":
        ports = (Port(n["port"], d[0], 4092, mode="ib", speed="ndr", peer=f"{n['node']}:ibp0"),)
    return SwitchIntent(
        name=n["switch"],
        platform=platform,
        role="leaf",
        mtu=9216,
        vlans=(Vlan(100, n["vlan"]), Vlan(200, "storage"), Vlan(10, "management")),
        ports=ports,
        channels=(Channel(1, d[2], (n["member"],), 9216, 100, (100, 200), mlag=True, peer=f"{n['node']}:bond0"),),
        mlag=Mlag("42", n["peer"], (n["link"],), "169.254.255.0", "169.254.255.1", True),
        breakouts=(Breakout(n["breakout"], 4, "100g"),),
        roce=Roce(),
        partitions=(Partition("pk_0001", "0x0001"),) if platform == "onyx" else (),
        sm_priority=15 if platform == "onyx" else None,
    )


NAME_ROLES = ("switch", "peer", "node", "port", "access", "member", "link", "vlan", "breakout")


def with_role(platform: str, role: str, value: str) -> SwitchIntent:
    """The intent with one name replaced."""
    return intent(platform, {role: value})


def strings(value: Any) -> list[str]:
    """Every string in an intent (to check a test really placed what it meant to)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


__all__ = ["NAME_ROLES", "intent", "replace", "strings", "with_role"]
