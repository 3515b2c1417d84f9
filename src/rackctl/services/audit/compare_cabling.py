"""Cabling layer: LLDP neighbours against the inventory's cables, with a move-it hint per cable.

NOTE(LLDP peers): system names may be FQDNs (compare the first label); a port may be announced by
name (ifname), as a local id, or only in its description; names compare case-insensitively.
"""

from __future__ import annotations

from rackctl.drivers.hostfacts import LldpNeighbor
from rackctl.services.audit.compare_common import maker
from rackctl.services.audit.state import CablingExpected, CablingObserved, LinkPlan
from rackctl.types import Finding, Layer, Severity


def _host(name: str) -> str:
    return name.strip().split(".")[0].lower()


def _ports(neighbor: LldpNeighbor) -> set[str]:
    return {p.strip().lower() for p in (neighbor.port_id, neighbor.port_descr) if p and p.strip()}


def lands_on(neighbor: LldpNeighbor, device: str, interface: str) -> bool:
    """Whether an LLDP neighbour is the given device and port."""
    return _host(neighbor.system_name) == _host(device) and interface.lower() in _ports(neighbor)


def _where(neighbor: LldpNeighbor) -> str:
    port = neighbor.port_id if neighbor.port_id_type in ("ifname", "local", "") else neighbor.port_descr
    return f"{_host(neighbor.system_name) or neighbor.chassis_id} {port or neighbor.port_id}".strip()


def compare_cabling(expected: CablingExpected, observed: CablingObserved) -> list[Finding]:
    """Findings for one device's cables, as its own LLDP neighbours show them."""
    make = maker(expected.device, Layer.CABLING)
    seen: dict[str, list[LldpNeighbor]] = {}
    for neighbor in observed.neighbors:
        seen.setdefault(neighbor.interface, []).append(neighbor)
    planned = {link.interface: link for link in expected.links}
    findings = []
    for link in expected.links:
        here = seen.get(link.interface, [])
        if any(lands_on(n, link.peer_device, link.peer_interface) for n in here):
            continue
        plan = f"{link.peer_device} {link.peer_interface}"
        if not here:
            hint = f"{expected.device} {link.interface} sees no LLDP neighbour: check the cable to {plan} is seated"
            findings.append(make("lldp-neighbor", plan, "none", Severity.WARNING, hint, link.interface))
            continue
        actual = _where(here[0])
        hint = _move_hint(expected.device, link, here[0], planned, seen)
        findings.append(make("cable", plan, actual, Severity.CRITICAL, hint, link.interface))
    for interface, neighbors in sorted(seen.items()):
        if interface not in planned:
            hint = f"{expected.device} {interface} is cabled but the plan has no cable there: add it or unplug it"
            findings.append(make("unplanned-cable", "no cable", _where(neighbors[0]), Severity.INFO, hint, interface))
    return findings


def _move_hint(
    device: str, link: LinkPlan, actual: LldpNeighbor, planned: dict[str, LinkPlan], seen: dict[str, list[LldpNeighbor]]
) -> str:
    for other in planned.values():
        if other.interface == link.interface or not lands_on(actual, other.peer_device, other.peer_interface):
            continue
        if any(lands_on(n, link.peer_device, link.peer_interface) for n in seen.get(other.interface, [])):
            return (
                f"{device} {link.interface} and {other.interface} are swapped: swap the two cables at "
                f"{link.peer_device} {link.peer_interface} and {other.peer_device} {other.peer_interface}"
            )
    return (
        f"{device} {link.interface} is in {_where(actual)}; the plan says {link.peer_device} "
        f"{link.peer_interface}: move it"
    )
