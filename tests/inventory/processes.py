"""Real rackctl processes racing on one inventory (SQLite file or PostgreSQL), for the locking tests.

Run as `python tests/inventory/processes.py MODE URL ...`; each process prints `ready`, waits for the go
file the test creates (so all of them start together), does its work and prints what it got.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import rackctl

SRC = Path(rackctl.__file__).resolve().parents[1]  # the rackctl under test, for the racers too
HERE = Path(__file__).resolve()


def _wait_for(go: Path) -> None:
    print("ready", flush=True)
    while not go.exists():  # the start line: every racer starts at once
        time.sleep(0.005)


def lease(url: str, go: str, subject: str, actor: str, ttl: str) -> None:
    """Take a lease on SUBJECT; print 'granted' or 'refused: WHY'; hold it until stdin closes."""
    from rackctl.inventory.db import Database
    from rackctl.services import leases

    db = Database(url)
    _wait_for(Path(go))
    held = leases.acquire(db, [subject], "cycled", actor, ttl_s=float(ttl))
    print("granted" if held.granted else f"refused: {held.refused[subject]}", flush=True)
    sys.stdin.read()
    held.release()


def lifecycle(url: str, go: str, device: str, moves: str) -> None:
    """Try MOVES times to move DEVICE to the other of racked and cabled, as read just before; print how
    many moves were made (one finds the device already there when the other process just moved it)."""
    from rackctl.inventory import queries
    from rackctl.inventory.db import Database
    from rackctl.inventory.lifecycle import change_state
    from rackctl.types import NodeState

    db = Database(url)
    _wait_for(Path(go))
    made = 0
    for _ in range(int(moves)):
        with db.transaction() as session:
            row = queries.device(session, device)
            target = NodeState.CABLED if row.state == NodeState.RACKED else NodeState.RACKED
            made += change_state(session, row, target, "racer", "race", force=True)
    print(f"moved {made}", flush=True)


def start(mode: str, *args: str) -> subprocess.Popen[str]:
    """One racer; its stdin stays open (a lease holder holds until it is closed)."""
    return subprocess.Popen(
        [sys.executable, str(HERE), mode, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])},
    )


def all_ready(racers: Sequence[subprocess.Popen[str]]) -> None:
    for racer in racers:
        assert racer.stdout is not None
        assert racer.stdout.readline().strip() == "ready"


if __name__ == "__main__":
    {"lease": lease, "lifecycle": lifecycle}[sys.argv[1]](*sys.argv[2:])
