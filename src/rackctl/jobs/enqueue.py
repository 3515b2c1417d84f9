"""Split a fleet command per site and rack and put one job per rack on that site's queue.

Small jobs keep a worker's death cheap (one rack to retry or to look at) and let several workers share
a site; a rack never spans two jobs, so an audit still sees all of a rack's PDUs for its feed checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import selectinload

from rackctl import targets
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Rack
from rackctl.jobs import queue as queues


@dataclass(frozen=True)
class Group:
    """The named devices of one rack (or the unracked ones of the inventory)."""

    site: str
    rack: str
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        return targets.fold(self.names)


@dataclass(frozen=True)
class Queued:
    job_id: int
    queue: str
    group: Group


def groups(db: Database, names: Sequence[str]) -> list[Group]:
    """The names grouped by rack, racks in the order their first device was named."""
    with db.transaction() as session:
        devices = queries.devices(session, names, selectinload(Device.rack).selectinload(Rack.site))
    by_rack: dict[tuple[str, str], list[str]] = {}
    place = {d.name: (d.rack.site.name, d.rack.name) if d.rack else (queues.UNRACKED, "") for d in devices}
    for name in names:
        by_rack.setdefault(place[name], []).append(name)
    return [Group(site, rack, tuple(members)) for (site, rack), members in by_rack.items()]


def enqueue(
    url: str,
    kind: queues.Kind,
    task_name: str,
    parts: Sequence[Group],
    arguments: Callable[[Group], dict[str, Any]],
) -> list[Queued]:
    """Defer `task_name` once per group on SITE.KIND with `arguments(group)`; returns the jobs, in order."""
    queues.require_schema(url)
    app = queues.make_app(url)
    queued = []
    with app.open():
        task = app.tasks[task_name]
        for group in parts:
            name = queues.queue_name(group.site, kind)
            job_id = task.configure(queue=name).defer(**arguments(group))
            queued.append(Queued(job_id, name, group))
    return queued
