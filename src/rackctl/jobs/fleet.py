"""Fleet commands on the queue: the jobs `audit --queue` and `power ... --queue` defer, and their
results read back as the report a direct run returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rackctl.inventory.db import Database, utcnow
from rackctl.jobs import follow
from rackctl.jobs.enqueue import Group, Queued, enqueue, groups
from rackctl.jobs.queue import AUDIT, POWER_ACT, POWER_READ, Kind
from rackctl.services.audit import store
from rackctl.services.audit.outcome import AuditReport, Outcome
from rackctl.services.audit.run import AuditOptions


@dataclass(frozen=True)
class Asked:
    """Who asked, and the fan-out settings every job of the command gets."""

    actor: str
    workers: int
    timeout: float
    retries: int

    def arguments(self) -> dict[str, Any]:
        return {"actor": self.actor, "workers": self.workers, "timeout": self.timeout, "retries": self.retries}


def audit_jobs(url: str, db: Database, names: Sequence[str], options: AuditOptions, actor: str) -> list[Queued]:
    """One audit job per rack of the named devices, on SITE.audit."""
    asked = Asked(actor, options.workers, options.timeout, options.retries)

    def arguments(group: Group) -> dict[str, Any]:
        return {"target": group.label, "layers": [layer.value for layer in options.layers], **asked.arguments()}

    return enqueue(url, Kind.AUDIT, AUDIT, groups(db, names), arguments)


def power_jobs(
    url: str, db: Database, action: str, names: Sequence[str], wait: float, asked: Asked
) -> list[Queued]:  # fmt: skip
    """One power job per rack of the named nodes, on SITE.bmc (`status` reads; the rest act)."""
    reading = action == "status"

    def arguments(group: Group) -> dict[str, Any]:
        extra = {} if reading else {"action": action, "wait": wait}
        return {"names": list(group.names), "label": group.label, **extra, **asked.arguments()}

    return enqueue(url, Kind.BMC, POWER_READ if reading else POWER_ACT, groups(db, names), arguments)


def audit_report(db: Database, ended: Sequence[follow.Ended], label: str, options: AuditOptions) -> AuditReport:
    """The jobs' runs as one report; devices of a job that recorded no run are not audited, and why."""
    runs = follow.audit_run_ids(db, ended)
    with db.transaction() as session:
        reports = [store.load_report(session, runs[e.queued.job_id]) for e in ended if e.queued.job_id in runs]
    outcomes = [o for r in reports for o in r.outcomes]
    for end in ended:
        if end.queued.job_id not in runs:
            why = str(follow.why(end))
            outcomes += [Outcome(n, layer, audited=False, message=why) for n in end.queued.group.names
                         for layer in options.layers]  # fmt: skip
    started = min((r.started_at for r in reports), default=utcnow())
    finished = max((r.finished_at for r in reports), default=utcnow())
    return AuditReport(
        label, options.layers, started, finished, outcomes, run_id=reports[0].run_id if reports else None
    )
