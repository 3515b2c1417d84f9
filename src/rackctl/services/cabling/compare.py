"""Compare the planned cables with the links devices report: a pure function over plain values.

Input: `PlannedLink`s (from the inventory's cables), `SeenLink`s (from LLDP and InfiniBand discovery, names
already mapped to inventory names where possible) and the names of devices whose reports were read.
Output: one `CablingFinding` per planned link that could be checked, plus links nobody planned. The audit
reuses `compare` as its cabling layer.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

OK, MOVED, MISSING, UNEXPECTED = "ok", "moved", "missing", "unexpected"


@dataclass(frozen=True)
class PlannedLink:
    """One cable of the plan; `a` is the end a technician looks at first (a host's NIC), `b` the far end."""

    a_device: str
    a_port: str
    b_device: str
    b_port: str


@dataclass(frozen=True)
class SeenLink:
    """`device port` reports `neighbour neighbour_port` on the other end of its cable."""

    device: str
    port: str
    neighbour: str
    neighbour_port: str


@dataclass(frozen=True)
class CablingFinding:
    device: str
    port: str
    status: str  # ok, moved, missing, unexpected
    expected: str  # "leaf-r12-a Ethernet1/12" ("" for an unexpected link)
    observed: str  # what is really there ("" when nothing was seen)
    message: str  # one sentence for the technician

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


_ABBREVIATIONS = (("ethernet", r"^(eth|et)(?=\d)"), ("management", r"^(ma|mgmt)(?=\d)"), ("port-channel", r"^po(?=\d)"))


def canonical_port(name: str) -> str:
    """Port names as compared: case-folded, vendor abbreviations expanded (Et1/14 -> ethernet1/14)."""
    port = name.strip().lower()
    for full, short in _ABBREVIATIONS:
        port = re.sub(short, full, port)
    return port


End = tuple[str, str]


def _key(device: str, port: str) -> End:
    return device, canonical_port(port)


def _adjacency(seen: Sequence[SeenLink]) -> tuple[dict[End, set[End]], dict[End, str]]:
    links: dict[End, set[End]] = {}
    shown: dict[End, str] = {}
    for s in seen:
        near, far = _key(s.device, s.port), _key(s.neighbour, s.neighbour_port)
        links.setdefault(near, set()).add(far)
        links.setdefault(far, set()).add(near)
        shown.setdefault(near, f"{s.device} {s.port}")
        shown.setdefault(far, f"{s.neighbour} {s.neighbour_port}")
    return links, shown


def _finding(link: PlannedLink, links: dict[End, set[End]], shown: dict[End, str]) -> CablingFinding:
    a, b = _key(link.a_device, link.a_port), _key(link.b_device, link.b_port)
    expected = f"{link.b_device} {link.b_port}"
    if b in links.get(a, set()):
        return CablingFinding(link.a_device, link.a_port, OK, expected, expected, "as planned")
    if links.get(a):
        there = shown[min(links[a])]
        plan = link.b_port if there.split(" ")[0] == link.b_device else expected
        message = f"{link.a_device} {link.a_port} is in {there}; the plan says {plan}: move it"
        return CablingFinding(link.a_device, link.a_port, MOVED, expected, there, message)
    if links.get(b):
        there = shown[min(links[b])]
        message = f"{expected} has {there} in it; the plan says {link.a_device} {link.a_port}: move it"
        return CablingFinding(link.a_device, link.a_port, MOVED, expected, there, message)
    message = f"{link.a_device} {link.a_port}: no link seen; the plan says {expected}: check the cable and optics"
    return CablingFinding(link.a_device, link.a_port, MISSING, expected, "", message)


def _swapped(findings: list[CablingFinding]) -> list[CablingFinding]:
    """Two moved cables of one device that sit in each other's planned ports: say "swap them"."""
    moved = [f for f in findings if f.status == MOVED]
    out = list(findings)
    for i, first in enumerate(moved):
        for second in moved[i + 1 :]:
            if (
                first.device == second.device
                and first.observed == second.expected
                and second.observed == first.expected
            ):
                message = (
                    f"{first.device} {first.port} and {second.port} are swapped: swap the two cables at "
                    f"{first.expected} and {second.expected}"
                )
                for finding in (first, second):
                    out[out.index(finding)] = replace(finding, message=message)
    return out


def compare(planned: Sequence[PlannedLink], seen: Sequence[SeenLink], checked: Collection[str]) -> list[CablingFinding]:
    """Findings for the planned links with an end on a device in `checked`, then links nobody planned."""
    links, shown = _adjacency(seen)
    findings = _swapped(
        [_finding(link, links, shown) for link in planned if link.a_device in checked or link.b_device in checked]
    )
    planned_ends = {e for link in planned for e in (_key(link.a_device, link.a_port), _key(link.b_device, link.b_port))}
    known = {d for link in planned for d in (link.a_device, link.b_device)}
    reported = set()
    for near, fars in sorted(links.items()):
        for far in sorted(fars):
            pair = tuple(sorted((near, far)))
            if near in planned_ends or far in planned_ends or pair in reported:
                continue
            if near[0] in known and far[0] in known:
                reported.add(pair)
                message = f"{shown[near]} is cabled to {shown[far]}, which the plan does not have"
                findings.append(
                    CablingFinding(near[0], shown[near].split(" ", 1)[1], UNEXPECTED, "", shown[far], message)
                )
    return findings
