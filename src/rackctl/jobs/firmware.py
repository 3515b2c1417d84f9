"""`firmware update` on the queue: one job per rack on SITE.firmware; the worker plans and updates its rack
with the same `firmware_run` calls as a direct run, serving the images from its own host (the one that
reaches the BMCs). Never repeated by the queue: an update cut off leaves its nodes unknown for a person.

The operation log gets the updated nodes (firmware_run's own operation) and, in one more operation, the nodes
the plan left alone (at the baseline, in service, unreadable), so `--wait` shows every node of the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rackctl import fanout
from rackctl.inventory.db import Database
from rackctl.jobs.enqueue import Group, Queued, enqueue, groups
from rackctl.jobs.queue import FIRMWARE, Kind
from rackctl.services import oplog
from rackctl.services.bmc import firmware_run
from rackctl.services.bmc.rollout import Rollout
from rackctl.services.bmc.tasks import Waits

COMMAND = "firmware update"


@dataclass(frozen=True)
class Update:
    """What `firmware update` was asked for, as the job carries it (JSON)."""

    components: tuple[str, ...]
    rollout: Rollout
    waits: Waits
    reboot: bool
    serve_address: str
    workers: int
    timeout: float

    def arguments(self) -> dict[str, Any]:
        return {**asdict(self), "components": list(self.components)}

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> Update:
        rest = {k: arguments[k] for k in ("reboot", "serve_address", "workers", "timeout")}
        components = tuple(arguments["components"])
        return cls(components, Rollout(**arguments["rollout"]), Waits(**arguments["waits"]), **rest)


def firmware_jobs(url: str, db: Database, names: Sequence[str], update: Update, actor: str) -> list[Queued]:
    """One firmware job per rack of the nodes, on SITE.firmware."""

    def arguments(group: Group) -> dict[str, Any]:
        return {"names": list(group.names), "label": group.label, "update": update.arguments(), "actor": actor}

    return enqueue(url, Kind.FIRMWARE, FIRMWARE, groups(db, names), arguments)


def run_update(db: Database, names: list[str], label: str, update: Update, actor: str, stop: fanout.Stop,
               cache: Path) -> bool:  # fmt: skip
    """Plan and update one rack's nodes, as `firmware update` does in-process; whether every node is fine."""
    reads = fanout.Options(update.workers, update.timeout, 0, stop=stop)
    run = firmware_run.prepare(db, names, update.components, update.rollout, reads)
    command = f"{COMMAND} {label}"
    if run.settled:
        with db.transaction() as session:
            left = [oplog.TargetResult(r.target, r.ok, str(r.value) if r.ok else r.message) for r in run.settled]
            oplog.record(session, actor, command, left)
    steps = max((len(p.steps) for p in run.plans.values()), default=1)
    waits = update.waits
    fan = fanout.Options(update.workers, update.timeout + steps * waits.task_s + 2 * waits.bmc_s, 0, stop=stop)
    options = firmware_run.UpdateOptions(update.rollout, waits, update.reboot, update.serve_address, cache)
    results = firmware_run.execute_run(db, actor, command, run, options, fan)
    return all(r.ok for r in results)
