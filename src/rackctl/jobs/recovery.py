"""Jobs whose worker died (SIGKILL, a power cut, a reboot): retried where safe, otherwise left to a person.

Every worker sweeps now and then for jobs still "doing" on a worker that stopped beating (procrastinate's
heartbeats). A job safe to repeat (a read; a power action that reads the state first) is put back on its
queue for any worker of its site. Any other job is failed, and the operation it had started is ended in
the operation log as "interrupted, state unknown": targets without a result are recorded as unknown (the
journal wrote the intent before acting), so a person looks before anything is switched again. The
per-device leases of the dead worker lapse (at once on its own host, within leases.TTL_S elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.locking import advisory
from rackctl.inventory.models import Operation, OperationEnd, OperationResult
from rackctl.jobs.tasks import repeatable
from rackctl.services import oplog
from rackctl.services.oplog import TargetResult

INTERRUPTED = "worker died mid-job: interrupted, state unknown"
WORKER_DIED = "worker died"  # the operation end's `interrupted` (16 characters at most)
SWEEP_LOCK = 0x7261636B7377  # "racksw": one sweeper at a time closes operations
log = logging.getLogger("rackctl.jobs")


def job_suffix(job_id: int) -> str:
    return f"(job {job_id})"


def close_interrupted(db: Database, job_id: int) -> int:
    """End the job's unfinished operations as interrupted, unknown for every target without a result."""
    closed = 0
    with db.transaction() as session:
        advisory(session, SWEEP_LOCK)
        ended = select(OperationEnd.operation_id)
        query = select(Operation).where(Operation.command.endswith(job_suffix(job_id)), Operation.id.not_in(ended))
        for operation in session.scalars(query):
            have = set(
                session.scalars(select(OperationResult.target).where(OperationResult.operation_id == operation.id))
            )
            missing = [t for t in operation.targets or [] if t not in have]
            unknown = [TargetResult(t, False, INTERRUPTED, {"outcome": oplog.UNKNOWN}) for t in missing]
            oplog.append(session, operation.id, unknown)
            oplog.end(
                session, operation.id, False, f"{INTERRUPTED}: {len(missing)} target(s) without a result", WORKER_DIED
            )
            closed += 1
    return closed


async def sweep(app: Any, db: Database, stalled_after: float) -> list[tuple[int, str]]:
    """Deal with every job of a dead worker once; returns (job id, what was done) for each."""
    from procrastinate.jobs import Status

    done = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            if repeatable(job.task_name, job.task_kwargs):
                await asyncio.to_thread(close_interrupted, db, job.id)
                await app.job_manager.retry_job(job)
                done.append((job.id, "retried"))
            else:
                await asyncio.to_thread(close_interrupted, db, job.id)
                await app.job_manager.finish_job(job, Status.FAILED, delete_job=False)
                done.append((job.id, "interrupted"))
        except Exception as exc:  # another sweep got there first (the job is no longer "doing"), or a hiccup
            log.warning("job %s of a dead worker: not recovered by this sweep (%s)", job.id, exc)
    return done


async def sweep_forever(app: Any, db: Database, stalled_after: float, every: float) -> None:
    while True:
        try:
            for job_id, what in await sweep(app, db, stalled_after):
                log.warning("job %s of a dead worker: %s", job_id, what)
        except Exception as exc:  # the database away for a moment: the next sweep tries again
            log.warning("sweep for jobs of dead workers failed: %s", exc)
        await asyncio.sleep(every)
