"""Secrets are read inside each target's deadline: a reference that stalls costs its own target, never the fleet.

Before, every reference was read while the command built its endpoints, before any deadline: one `file:`
reference to a FIFO blocked `power status` of the whole fleet for good.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rackctl import fanout
from rackctl.errors import Timeout
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.lab.redfish_mockup import MockupServer
from rackctl.types import MgmtProtocol, Secret

DATA = Path(__file__).resolve().parent.parent / "data" / "redfish" / "public-rackmount1"
NODES = {"gpu-r12-u03": "127.43.1.1", "gpu-r12-u11": "127.43.1.2"}


@pytest.fixture
def bmcs() -> Iterator[dict[str, MockupServer]]:
    servers = {name: MockupServer(DATA, address, 0, password="fleet-secret").start() for name, address in NODES.items()}
    yield servers
    for server in servers.values():
        server.stop()


def test_a_fifo_reference_fails_its_own_node_and_the_fleet_command_finishes(
    cli: Callable[..., object], db: Database, bmcs: dict[str, MockupServer], secret_dir: Path, secret_file: Callable
) -> None:
    fifo = secret_dir / "stalled-password"
    if not fifo.exists():
        os.mkfifo(fifo, 0o600)
    good = secret_file("fleet-password", "fleet-secret")
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0  # type: ignore[attr-defined]
    with db.transaction() as session:
        for name, server in bmcs.items():
            mgmt = queries.device(session, name).mgmt
            assert mgmt is not None
            mgmt.address, mgmt.port, mgmt.options = server.address, server.port, {"scheme": "http"}
            mgmt.protocol = MgmtProtocol.REDFISH
            mgmt.credential_ref = f"file:{fifo}" if name == "gpu-r12-u03" else good
    env = {**os.environ, "RACKCTL_DB_URL": db.url, "RACKCTL_CONFIG": "/nonexistent/rackctl.toml"}
    command = [sys.executable, "-m", "rackctl", "power", "status", "gpu-r12-u[03,11]", "--json", "--timeout", "5"]
    # Bounded: before the fix this never returned (the FIFO had no writer).
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    rows = {row["target"]: row for row in json.loads(done.stdout)}
    assert rows["gpu-r12-u11"]["ok"]
    assert not rows["gpu-r12-u03"]["ok"] and "not a regular file" in rows["gpu-r12-u03"]["error"]


def test_a_reference_that_blocks_costs_only_its_target_deadline() -> None:
    release = threading.Event()

    def stalled() -> str:  # a read that never returns by itself, as on a hung network file system
        release.wait()
        return "never"

    secrets = {"stalled": Secret.deferred(stalled), "fine": Secret("value")}
    results = fanout.run(lambda name: secrets[name].value, list(secrets), options=fanout.Options(timeout=0.5))
    release.set()
    assert isinstance(results[0].error, Timeout) and results[1].value == "value"
