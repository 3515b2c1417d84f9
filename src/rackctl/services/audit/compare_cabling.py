"""Cabling layer: a device's LLDP neighbours against the inventory's cables, through the one cabling
comparison `rackctl cabling check` uses (services/cabling/compare.py), as audit findings.

NOTE(LLDP peers): system names may be FQDNs (compare the first label); a port may be announced by name
(ifname), as a local id, or only in its description.
"""

from __future__ import annotations

from rackctl.drivers.hostfacts import LldpNeighbor
from rackctl.services.audit.compare_common import maker
from rackctl.services.audit.state import CablingExpected, CablingObserved
from rackctl.services.cabling.compare import MISSING, MOVED, CablingFinding, PlannedLink, SeenLink, compare
from rackctl.types import Finding, Layer, Severity

_AS_AUDIT = {MOVED: ("cable", Severity.CRITICAL), MISSING: ("lldp-neighbor", Severity.WARNING)}


def _host(name: str) -> str:
    return name.strip().split(".")[0].lower()


def neighbour_port(neighbor: LldpNeighbor) -> str:
    """The far port as the far device names it (its description when the id is a MAC or similar)."""
    if neighbor.port_id_type in ("ifname", "local", "") or not neighbor.port_descr:
        return neighbor.port_id
    return neighbor.port_descr


def seen_links(device: str, observed: CablingObserved) -> list[SeenLink]:
    return [
        SeenLink(device, n.interface, _host(n.system_name) or n.chassis_id, neighbour_port(n))
        for n in observed.neighbors
    ]


def compare_cabling(expected: CablingExpected, observed: CablingObserved) -> list[Finding]:
    """Findings for one device's cables, as its own LLDP neighbours show them."""
    planned = [
        PlannedLink(expected.device, link.interface, link.peer_device, link.peer_interface) for link in expected.links
    ]
    results = compare(planned, seen_links(expected.device, observed), {expected.device})
    return [_finding(expected.device, r) for r in results if not r.ok]


def _finding(device: str, result: CablingFinding) -> Finding:
    check, severity = _AS_AUDIT.get(result.status, ("unplanned-cable", Severity.INFO))
    expected = result.expected or "no cable"
    observed = result.observed or "none"
    return maker(device, Layer.CABLING)(check, expected, observed, severity, result.message, result.port)
