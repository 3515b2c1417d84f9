"""What a rack elevation shows, read from the inventory once: plain values the SVG writer lays out.

Kept apart from the writer so the drawing never touches the database and the tests can compare the
picture's text with the inventory it was read from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.inventory import powermodel as pm
from rackctl.inventory.models import Device, Rack
from rackctl.inventory.models.audit import AuditFinding
from rackctl.types import Face


@dataclass(frozen=True)
class Finding:
    severity: str
    text: str


@dataclass(frozen=True)
class Mounted:
    """A device on one face of the rack; `through` when it is a full-depth device seen from its other face."""

    name: str
    kind: str  # the device type's model
    role: str
    state: str
    top_u: int
    height: int
    through: bool = False
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Bar:
    """A load against its derated limit: `worst` is the load with the rack's other feed lost."""

    label: str
    watts: float
    worst: float
    limit: float | None


@dataclass(frozen=True)
class PduPanel:
    name: str
    feed: str
    bars: tuple[Bar, ...]
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class RackPicture:
    name: str
    site: str
    u_height: int
    faces: dict[str, list[Mounted]] = field(default_factory=dict)
    pdus: list[PduPanel] = field(default_factory=list)
    feeds: list[Bar] = field(default_factory=list)


def _open_findings(session: Session, devices: list[str]) -> dict[str, tuple[Finding, ...]]:
    rows = session.scalars(
        select(AuditFinding)
        .where(AuditFinding.device.in_(devices), AuditFinding.resolved_at.is_(None))
        .order_by(AuditFinding.id)
    )
    found: dict[str, list[Finding]] = defaultdict(list)
    for row in rows:
        subject = f" {row.subject}" if row.subject else ""
        found[row.device].append(Finding(row.severity.value, f"{row.layer.value}/{row.check}{subject}: {row.observed}"))
    return {name: tuple(items) for name, items in found.items()}


def _mounted(device: Device, face: Face, findings: tuple[Finding, ...]) -> Mounted:
    return Mounted(
        name=device.name,
        kind=device.device_type.model,
        role=device.role.value,
        state=device.state.value,
        top_u=device.units.stop - 1,
        height=len(device.units),
        through=device.face != face,
        findings=findings,
    )


def _faces(rack: Rack, findings: dict[str, tuple[Finding, ...]]) -> dict[str, list[Mounted]]:
    """Each face's devices: those mounted on it, and full-depth devices mounted on the other one."""
    faces: dict[str, list[Mounted]] = {}
    for face in (Face.FRONT, Face.REAR):
        shown = [d for d in rack.devices if d.position is not None and (d.face == face or d.device_type.is_full_depth)]
        faces[face.value] = [_mounted(d, face, findings.get(d.name, ())) for d in shown]
    return faces


def _phase_limit_w(pdu: Device, phase: str) -> float | None:
    """A phase's derated limit: its breaker as the PDU reported it, else an equal share of the feed."""
    feed = pdu.power_feed
    if feed is None:
        return None
    volts = feed.voltage / 3**0.5 if feed.phases == 3 else float(feed.voltage)
    breaker = pm.breaker_ratings(pdu).get(phase)
    if breaker is not None:
        return breaker * volts * pm.PDU_DERATING
    return feed.usable_w / max(1, feed.phases)


def _phase_bars(pdu: Device, lost: list[str]) -> list[Bar]:
    normal = {p.phase: p.watts for p in pm.phase_loads([pdu])}
    worst: dict[str, float] = defaultdict(float)
    for feed in lost:
        for p in pm.phase_loads([pdu], feed):
            worst[p.phase] = max(worst[p.phase], p.watts)
    return [
        Bar(phase, watts, max(watts, worst[phase]), _phase_limit_w(pdu, phase))
        for phase, watts in sorted(normal.items())
    ]


def _pdu_panel(pdu: Device, rack: Rack, findings: tuple[Finding, ...]) -> PduPanel:
    own = pdu.power_feed.name if pdu.power_feed else ""
    lost = [f.name for f in rack.feeds if f.name != own]
    worst = max([pm.pdu_load_w(pdu)] + [pm.pdu_load_w(pdu, f) for f in lost])
    total = Bar("PDU", pm.pdu_load_w(pdu), worst, pm.pdu_usable_w(pdu))
    return PduPanel(pdu.name, own or "-", (total, *_phase_bars(pdu, lost)), findings)


def rack_picture(session: Session, rack: Rack) -> RackPicture:
    """Everything the elevation of `rack` shows, read in the caller's transaction."""
    findings = _open_findings(session, [d.name for d in rack.devices])
    pdus = sorted((d for d in rack.devices if d.position is None), key=lambda d: d.name)
    feeds = [Bar(f.name, pm.feed_load_w(f), pm.feed_worst_w(f), f.usable_w) for f in rack.feeds]
    return RackPicture(
        name=rack.name,
        site=rack.site.name,
        u_height=rack.u_height,
        faces=_faces(rack, findings),
        pdus=[_pdu_panel(p, rack, findings.get(p.name, ())) for p in pdus],
        feeds=feeds,
    )
