"""Device leases between real processes: one taker wins a race, a killed or expired holder blocks nobody.
Runs on SQLite and, in CI, on PostgreSQL (RACKCTL_TEST_DB_URL)."""

from __future__ import annotations

import os
import signal
import socket
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory.db import Database, utcnow
from rackctl.inventory.models import Lease
from rackctl.services import leases
from tests.inventory.processes import all_ready, start

RACERS = 6


def test_of_racers_for_one_device_exactly_one_gets_the_lease(db: Database, db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [start("lease", db_url, str(go), "gpu-r12-u03", f"tech{i}", "120") for i in range(RACERS)]
    all_ready(racers)
    go.touch()
    answers = [r.stdout.readline().strip() for r in racers if r.stdout is not None]
    for racer in racers:
        racer.communicate("")  # close stdin: the holder releases
    granted = [a for a in answers if a == "granted"]
    assert len(granted) == 1, answers
    winner = answers.index("granted")
    refusals = [a for a in answers if a != "granted"]
    assert all(a.startswith(f"refused: gpu-r12-u03 is being cycled by tech{winner} since ") for a in refusals)
    with db.transaction() as session:
        assert session.scalars(select(Lease)).all() == []


def test_a_killed_holder_blocks_nobody(db: Database, db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    go.touch()
    holder = start("lease", db_url, str(go), "gpu-r12-u03", "alice", "3600")
    all_ready([holder])
    assert holder.stdout is not None and holder.stdout.readline().strip() == "granted"
    assert leases.acquire(db, ["gpu-r12-u03"], "cycled", "bob").refused  # alice is alive: refused
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert holder.stdin is not None
    holder.stdin.close()
    again = leases.acquire(db, ["gpu-r12-u03"], "cycled", "bob")  # alice's process is gone from this host
    assert again.granted == ["gpu-r12-u03"]
    again.release()


def test_a_lease_expires_and_another_host_s_lease_counts_until_then(db: Database) -> None:
    with db.transaction() as session:
        session.add(
            Lease(
                subject="gpu-r12-u11",
                token="t-1",
                actor="carol",
                doing="reset",
                host="other-" + socket.gethostname(),
                pid=os.getpid(),
                since=utcnow(),
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )
    held = leases.acquire(db, ["gpu-r12-u11", "gpu-r12-u19"], "powered off", "bob")
    assert held.granted == ["gpu-r12-u19"] and held.refused["gpu-r12-u11"].startswith(
        "gpu-r12-u11 is being reset by carol"
    )
    held.release()
    with db.transaction() as session:
        session.scalars(select(Lease)).one().expires_at = utcnow() - timedelta(seconds=1)  # carol crashed long ago
    later = leases.acquire(db, ["gpu-r12-u11"], "powered off", "bob")
    assert later.granted == ["gpu-r12-u11"]
    later.release()
