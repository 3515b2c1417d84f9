"""Keep audit runs and findings: first seen, last seen, resolved; and read history and diffs back.

A finding stays open until a run that audited its device and layer no longer sees it. A run that
could not audit a device leaves that device's open findings as they were: not seen is not fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rackctl.errors import NotFound
from rackctl.inventory import queries
from rackctl.inventory.models import AuditFinding, AuditResult, AuditRun, AuditSighting
from rackctl.services.audit.outcome import NOT_AUDITED, AuditReport, Outcome
from rackctl.types import Finding, Layer

Key = tuple[str, str, str, str]


def _key(row: AuditFinding) -> Key:
    return (row.device, row.layer.value, row.check, row.subject)


def _open_findings(session: Session, devices: Sequence[str]) -> dict[Key, AuditFinding]:
    found: dict[Key, AuditFinding] = {}
    for batch in queries.in_batches(devices):
        query = select(AuditFinding).where(AuditFinding.device.in_(batch), AuditFinding.resolved_at.is_(None))
        found.update((_key(row), row) for row in session.scalars(query))
    return found


def _upsert(session: Session, run: AuditRun, finding: Finding, row: AuditFinding | None) -> AuditFinding:
    if row is None:
        row = AuditFinding(
            device=finding.device, layer=finding.layer, check=finding.check, subject=finding.subject,
            first_seen_run_id=run.id, first_seen=run.finished_at,
        )  # fmt: skip
        session.add(row)
    row.severity, row.hint = finding.severity, finding.hint[:1024]
    row.expected, row.observed = finding.expected[:512], finding.observed[:512]
    row.last_seen_run_id, row.last_seen = run.id, run.finished_at
    return row


def record(session: Session, report: AuditReport, actor: str) -> AuditRun:
    """Store a run: its outcomes, new and still-open findings, and resolve what was fixed."""
    run = AuditRun(
        started_at=report.started_at, finished_at=report.finished_at, actor=actor, targets=report.targets[:1024],
        layers=[layer.value for layer in report.layers], shard=report.shard, devices=len(report.devices),
        findings=len(report.findings), not_audited=len(report.not_audited),
    )  # fmt: skip
    session.add(run)
    session.flush()
    session.add_all(
        AuditResult(run_id=run.id, device=o.device, layer=o.layer, outcome=o.status, message=o.message[:1024])
        for o in report.outcomes
    )
    open_rows = _open_findings(session, report.devices)
    seen: set[Key] = set()
    for finding in report.findings:
        row = _upsert(session, run, finding, open_rows.get(finding.key))
        seen.add(finding.key)
        session.flush()
        session.add(AuditSighting(run_id=run.id, finding_id=row.id, severity=row.severity,
                                  expected=row.expected, observed=row.observed))  # fmt: skip
    audited = {(o.device, o.layer.value) for o in report.outcomes if o.audited}
    for key, row in open_rows.items():
        if key not in seen and key[:2] in audited:
            row.resolved_run_id, row.resolved_at = run.id, run.finished_at
    session.flush()
    return run


def run(session: Session, run_id: int) -> AuditRun:
    found = session.get(AuditRun, run_id)
    if found is None:
        raise NotFound(f"no audit run {run_id}", hint="rackctl audit history")
    return found


def runs(session: Session, devices: Sequence[str] | None = None, limit: int = 20) -> list[AuditRun]:
    """The newest runs, newest first; with devices, only runs that looked at one of them."""
    query = select(AuditRun).order_by(AuditRun.id.desc()).limit(limit)
    if devices is not None:
        touched = select(AuditResult.run_id).where(AuditResult.device.in_(devices))
        query = query.where(AuditRun.id.in_(touched))
    return list(session.scalars(query))


def findings(session: Session, devices: Sequence[str] | None = None, open_only: bool = False) -> list[AuditFinding]:
    """Findings with their first seen, last seen and resolution, open ones first."""
    query = select(AuditFinding)
    if devices is not None:
        query = query.where(AuditFinding.device.in_(devices))
    if open_only:
        query = query.where(AuditFinding.resolved_at.is_(None))
    rows = list(session.scalars(query))
    return sorted(rows, key=lambda r: (r.resolved_at is not None, r.device, r.layer.value, r.check, r.subject))


@dataclass(frozen=True)
class Change:
    key: Key
    severity: str
    expected: str
    observed: str


@dataclass(frozen=True)
class RunDiff:
    run_a: int
    run_b: int
    appeared: list[Change]
    fixed: list[Change]
    still_open: list[Change]
    unknown: list[Change]  # open in A, but B could not audit (or did not include) that device and layer


def _sightings(session: Session, run_id: int) -> dict[Key, Change]:
    query = select(AuditSighting).where(AuditSighting.run_id == run_id)
    return {
        _key(s.finding): Change(_key(s.finding), s.severity.value, s.expected, s.observed)
        for s in session.scalars(query)
    }


def _audited(session: Session, run_id: int) -> set[tuple[str, str]]:
    query = select(AuditResult).where(AuditResult.run_id == run_id, AuditResult.outcome != "not-audited")
    return {(r.device, r.layer.value) for r in session.scalars(query)}


def diff(session: Session, run_a: int, run_b: int) -> RunDiff:
    """What appeared and what was fixed between two runs."""
    run(session, run_a), run(session, run_b)
    before, after = _sightings(session, run_a), _sightings(session, run_b)
    audited_b = _audited(session, run_b)
    gone = [c for k, c in before.items() if k not in after]
    return RunDiff(
        run_a, run_b,
        appeared=sorted((c for k, c in after.items() if k not in before), key=lambda c: c.key),
        fixed=sorted((c for c in gone if c.key[:2] in audited_b), key=lambda c: c.key),
        still_open=sorted((c for k, c in after.items() if k in before), key=lambda c: c.key),
        unknown=sorted((c for c in gone if c.key[:2] not in audited_b), key=lambda c: c.key),
    )  # fmt: skip


def latest(session: Session) -> list[Outcome]:
    """Each device and layer as its newest run left it, with its open findings (for exporters)."""
    newest_ids = select(func.max(AuditResult.id)).group_by(AuditResult.device, AuditResult.layer)
    newest = {
        (r.device, r.layer.value): r for r in session.scalars(select(AuditResult).where(AuditResult.id.in_(newest_ids)))
    }
    open_rows: dict[tuple[str, str], list[Finding]] = {}
    for row in session.scalars(select(AuditFinding).where(AuditFinding.resolved_at.is_(None))):
        open_rows.setdefault((row.device, row.layer.value), []).append(_finding(row))
    return [
        Outcome(r.device, r.layer, r.outcome != "not-audited", tuple(open_rows.get(k, ())), r.message)
        for k, r in sorted(newest.items())
    ]


def _finding(row: AuditFinding) -> Finding:
    return Finding(
        row.device, Layer(row.layer), row.check, row.expected, row.observed, row.severity, row.hint, row.subject
    )


def last_run(session: Session) -> AuditRun | None:
    return session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(1)).first()


def changes_as_dicts(changes: Iterable[Change]) -> list[dict[str, str]]:
    return [
        {"device": c.key[0], "layer": c.key[1], "check": c.key[2], "subject": c.key[3], "severity": c.severity,
         "expected": c.expected, "observed": c.observed}
        for c in changes
    ]  # fmt: skip


def load_report(session: Session, run_id: int) -> AuditReport:
    """A stored run as the report its audit returned (for results read back, e.g. of a queued job)."""
    row = run(session, run_id)
    seen: dict[tuple[str, str], list[Finding]] = {}
    for sighting in session.scalars(select(AuditSighting).where(AuditSighting.run_id == run_id)):
        f = sighting.finding
        finding = Finding(f.device, Layer(f.layer), f.check, sighting.expected, sighting.observed, sighting.severity,
                          f.hint, f.subject)  # fmt: skip
        seen.setdefault((f.device, f.layer.value), []).append(finding)
    outcomes = [
        Outcome(r.device, r.layer, r.outcome != NOT_AUDITED, tuple(seen.get((r.device, r.layer.value), ())), r.message)
        for r in row.results
    ]
    layers = tuple(Layer(layer) for layer in row.layers)
    return AuditReport(row.targets, layers, row.started_at, row.finished_at, outcomes, row.shard, row.id)
