"""Follow queued jobs to their end and read their results back from where a direct run writes them.

`--wait` polls the jobs' states (bounded by its own deadline) and then reads, per job, the audit run
or the operation its task recorded under the job's tag; a job that ended without recording anything
(cancelled, failed before it started, interrupted) gives its targets a failed result saying so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rackctl import fanout
from rackctl.errors import NotStarted, RackctlError, Timeout, Unknown
from rackctl.inventory.db import Database
from rackctl.inventory.models import AuditRun, Operation, OperationResult
from rackctl.jobs import queue as queues
from rackctl.jobs.enqueue import Queued
from rackctl.jobs.queue import tag
from rackctl.services import oplog

FINAL = frozenset({"succeeded", "failed", "cancelled", "aborted"})
POLL_S = 0.5


@dataclass(frozen=True)
class Ended:
    queued: Queued
    status: str  # a procrastinate status; "todo"/"doing" when the wait gave up


def wait(
    url: str, jobs: Sequence[Queued], deadline_s: float, seen: Callable[[Ended], None] | None = None
) -> list[Ended]:
    """Poll until every job is final or `deadline_s` passes; `seen` hears of each job as it ends."""
    app = queues.make_app(url)
    status: dict[int, str] = {}
    ends = time.monotonic() + deadline_s
    with app.open():
        while True:
            for job in jobs:
                if status.get(job.job_id) not in FINAL:
                    status[job.job_id] = app.job_manager.get_job_status(job.job_id).value
                    if status[job.job_id] in FINAL and seen is not None:
                        seen(Ended(job, status[job.job_id]))
            if all(s in FINAL for s in status.values()) or time.monotonic() >= ends:
                break
            time.sleep(POLL_S)
    return [Ended(job, status[job.job_id]) for job in jobs]


def audit_run_ids(db: Database, ended: Sequence[Ended]) -> dict[int, int]:
    """Job id -> the audit run it recorded (jobs that recorded none are left out)."""
    labels = {tag(e.queued.group.label, e.queued.job_id): e.queued.job_id for e in ended}
    with db.transaction() as session:
        rows = session.execute(select(AuditRun.id, AuditRun.targets).where(AuditRun.targets.in_(list(labels))))
        return {labels[targets]: run_id for run_id, targets in rows}


def why(end: Ended) -> RackctlError:
    if end.status in ("todo", "doing"):
        return Timeout(f"job {end.queued.job_id} still {end.status} when --wait gave up (rackctl jobs show)")
    if end.status == "cancelled":
        return NotStarted(f"job {end.queued.job_id} was cancelled before it started")
    return Unknown(f"job {end.queued.job_id} {end.status} without recording a result (rackctl jobs show)")


@dataclass(frozen=True)
class Recorded:
    """What a job wrote to the operation log: its targets in order and each one's newest result."""

    targets: list[str]
    rows: dict[str, OperationResult]


def operations(db: Database, command: str, ended: Sequence[Ended]) -> list[tuple[Ended, Recorded | None]]:
    """Each job's operations `COMMAND LABEL (job N)` merged (None where it recorded none), in the jobs' order.
    A later operation's result wins: a repeated job's second run, or a firmware job's updates after the
    nodes it found at the baseline."""
    found: list[tuple[Ended, Recorded | None]] = []
    with db.transaction() as session:
        for end in ended:
            text = f"{command} {tag(end.queued.group.label, end.queued.job_id)}"
            query = select(Operation).where(Operation.command == text).options(selectinload(Operation.results))
            recorded = list(session.scalars(query.order_by(Operation.id)))
            targets = list(dict.fromkeys(t for o in recorded for t in o.targets or []))
            rows = {r.target: r for o in recorded for r in sorted(o.results, key=lambda r: r.id)}
            found.append((end, Recorded(targets, rows) if recorded else None))
    return found


def operation_results(db: Database, command: str, ended: Sequence[Ended]) -> list[fanout.Result[str]]:
    """Each job's operations as one result per target, in the jobs' order."""
    results: list[fanout.Result[str]] = []
    for end, found in operations(db, command, ended):
        results += _results_of(found, end) if found else [
            fanout.Result(n, error=why(end), attempts=0) for n in end.queued.group.names
        ]  # fmt: skip
    return results


def _results_of(recorded: Recorded, end: Ended) -> list[fanout.Result[str]]:
    rows = recorded.rows
    missing = Unknown(f"no result recorded (job {end.queued.job_id} {end.status}): state unknown")
    return [
        fanout.Result(name, value=rows[name].message)
        if name in rows and rows[name].ok
        else fanout.Result(name, error=_failed(rows[name]) if name in rows else missing)
        for name in recorded.targets
    ]


def _failed(row: OperationResult) -> RackctlError:
    kind = Unknown if (row.detail or {}).get("outcome") == oplog.UNKNOWN else RackctlError
    return kind(row.message)
