"""Two real processes moving one device through its lifecycle are served one after the other: every
history row starts where the previous one ended. Runs on SQLite and, in CI, on PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import StateChange
from tests.inventory.conftest import Build
from tests.inventory.processes import all_ready, start


def test_two_processes_moving_one_device_leave_a_history_chain(
    build: Build, db: Database, db_url: str, tmp_path: Path
) -> None:
    build()
    go = tmp_path / "go"
    racers = [start("lifecycle", db_url, str(go), "gpu-r12-u03", "40") for _ in range(2)]
    all_ready(racers)
    go.touch()
    moved = 0
    for racer in racers:
        out, _ = racer.communicate("", timeout=300)
        moved += int(out.strip().removeprefix("moved "))
    with db.transaction() as session:
        device = queries.device(session, "gpu-r12-u03")
        history = list(
            session.scalars(select(StateChange).where(StateChange.device_id == device.id).order_by(StateChange.id))
        )
        broken = [(a.to_state, b.from_state) for a, b in itertools.pairwise(history) if b.from_state != a.to_state]
    assert len(history) == 1 + moved  # the initial state and every move either process made
    assert broken == []
