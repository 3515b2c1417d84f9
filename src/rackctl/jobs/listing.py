"""`rackctl jobs list|show|cancel|retry`: the queue's jobs as rackctl shows them.

A job failed by recovery.py (its worker died during an action) is shown as "interrupted, state
unknown": its operation in the log says so, and which targets have no result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from rackctl.errors import Conflict, NotFound
from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation, OperationEnd
from rackctl.jobs import queue as queues
from rackctl.jobs.recovery import WORKER_DIED, job_suffix
from rackctl.services import oplog

LIST_SQL = """
SELECT j.id, j.queue_name, j.task_name, j.status::text AS status, j.attempts, j.args, j.worker_id,
       (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'deferred') AS deferred_at,
       (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) AS changed_at
  FROM procrastinate_jobs j
 WHERE (%(queue)s::text IS NULL OR j.queue_name = %(queue)s)
   AND (%(status)s::text IS NULL OR j.status::text = %(status)s)
   AND (%(id)s::bigint IS NULL OR j.id = %(id)s)
 ORDER BY j.id DESC LIMIT %(limit)s
"""
EVENTS_SQL = "SELECT type::text AS type, at FROM procrastinate_events WHERE job_id = %(id)s ORDER BY id"


@dataclass(frozen=True)
class JobRow:
    id: int
    queue: str
    task: str
    status: str  # procrastinate's, or "interrupted" (see the module's docstring)
    attempts: int
    worker_id: int | None  # while it runs (procrastinate forgets it when the worker leaves)
    deferred_at: datetime | None
    changed_at: datetime | None
    arguments: dict[str, Any]

    @property
    def target(self) -> str:
        return str(self.arguments.get("target") or self.arguments.get("label") or "")


def _query(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    queues.require_schema(url)
    with psycopg.connect(queues.conninfo(url), row_factory=dict_row) as conn:
        return list(conn.execute(sql, params).fetchall())


def _interrupted(db: Database, ids: list[int]) -> set[int]:
    """The jobs among `ids` whose operation recovery.py ended as interrupted."""
    if not ids:
        return set()
    query = select(Operation.command).join(OperationEnd).where(OperationEnd.interrupted == WORKER_DIED)
    with db.transaction() as session:
        commands = list(session.scalars(query))
    return {i for i in ids if any(c.endswith(job_suffix(i)) for c in commands)}


def jobs(url: str, db: Database, queue: str | None = None, status: str | None = None, limit: int = 50,
         job_id: int | None = None) -> list[JobRow]:  # fmt: skip
    """The newest jobs first, filtered by queue and status ("interrupted": failed jobs recovery.py ended)."""
    asked = "failed" if status == "interrupted" else status
    rows = _query(url, LIST_SQL, queue=queue, status=asked, id=job_id, limit=limit)
    failed = _interrupted(db, [r["id"] for r in rows if r["status"] == "failed"])
    if status in ("failed", "interrupted"):
        rows = [r for r in rows if (r["id"] in failed) == (status == "interrupted")]
    return [
        JobRow(r["id"], r["queue_name"], r["task_name"], "interrupted" if r["id"] in failed else r["status"],
               r["attempts"], r["worker_id"], r["deferred_at"], r["changed_at"], r["args"] or {})
        for r in rows
    ]  # fmt: skip


def job(url: str, db: Database, job_id: int) -> tuple[JobRow, list[dict[str, Any]]]:
    """One job and its events (deferred, started, retried, failed ...) in order."""
    found = jobs(url, db, job_id=job_id, limit=1)
    if not found:
        raise NotFound(f"no job {job_id}", hint="rackctl jobs list")
    return found[0], _query(url, EVENTS_SQL, id=job_id)


def operations(db: Database, job_id: int) -> list[dict[str, Any]]:
    """What the job recorded in the operation log (every attempt): id, command, and how it ended."""
    query = (
        select(Operation)
        .where(Operation.command.endswith(job_suffix(job_id)))
        .options(selectinload(Operation.results), selectinload(Operation.end))
        .order_by(Operation.id)
    )
    with db.transaction() as session:
        return [
            {"id": op.id, "command": op.command, "summary": oplog.shown(op).summary} for op in session.scalars(query)
        ]


def cancel(url: str, job_id: int, abort: bool) -> None:
    """Cancel a job not yet started; with `abort`, ask a running one to stop (it ends its fan-out cleanly)."""
    app = queues.make_app(url)
    with app.open():
        if not app.job_manager.cancel_job_by_id(job_id, abort=abort):
            hint = "a running job needs --abort" if not abort else "it has already ended"
            raise Conflict(f"job {job_id} cannot be cancelled", hint=hint)


def retry(url: str, db: Database, job_id: int) -> int:
    """Run an ended job again: a new job with the same task, queue and arguments; returns its id."""
    row, _ = job(url, db, job_id)
    if row.status in ("todo", "doing"):
        raise Conflict(f"job {job_id} is still {row.status}: nothing to retry")
    app = queues.make_app(url)
    with app.open():
        return int(app.tasks[row.task].configure(queue=row.queue).defer(**row.arguments))
