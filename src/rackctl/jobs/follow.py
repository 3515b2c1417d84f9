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


def operations(db: Database, command: str, ended: Sequence[Ended]) -> list[tuple[Ended, Operation | None]]:
    """Each job's newest operation `COMMAND LABEL (job N)` (None where it recorded none), in the jobs' order;
    the operations come with their results loaded."""
    found: list[tuple[Ended, Operation | None]] = []
    with db.transaction() as session:
        for end in ended:
            text = f"{command} {tag(end.queued.group.label, end.queued.job_id)}"
            query = select(Operation).where(Operation.command == text).options(selectinload(Operation.results))
            found.append((end, session.scalars(query.order_by(Operation.id.desc()).limit(1)).first()))
    return found


def operation_results(db: Database, command: str, ended: Sequence[Ended]) -> list[fanout.Result[str]]:
    """Each job's operation as one result per target, in the jobs' order."""
    results: list[fanout.Result[str]] = []
    for end, found in operations(db, command, ended):
        results += _results_of(found, end) if found else [
            fanout.Result(n, error=why(end), attempts=0) for n in end.queued.group.names
        ]  # fmt: skip
    return results


def _results_of(operation: Operation, end: Ended) -> list[fanout.Result[str]]:
    by_target = {r.target: r for r in operation.results}
    missing = Unknown(f"no result recorded (job {end.queued.job_id} {end.status}): state unknown")
    return [
        fanout.Result(name, value=by_target[name].message)
        if name in by_target and by_target[name].ok
        else fanout.Result(name, error=_failed(by_target[name]) if name in by_target else missing)
        for name in operation.targets or []
    ]


def _failed(row: OperationResult) -> RackctlError:
    kind = Unknown if (row.detail or {}).get("outcome") == oplog.UNKNOWN else RackctlError
    return kind(row.message)
