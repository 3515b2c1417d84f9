"""The task queue's tests: a PostgreSQL inventory (the queue refuses SQLite), a lab rack per site, and
real `rackctl worker` processes started and stopped by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.inventory.schema import upgrade
from rackctl.jobs.queue import ensure_schema
from tests.conftest import CliResult, _seed

BOUND_S = 300.0  # every wait here ends by this: a broken worker, not a loaded machine (120 s failed under stress-ng)


def until(condition: Callable[[], object], what: str, bound_s: float = BOUND_S) -> object:
    """Poll `condition` until it is truthy; fail naming `what` when the bound passes."""
    ends = time.monotonic() + bound_s
    while time.monotonic() < ends:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up after {bound_s:g}s waiting for {what}")


@pytest.fixture
def db_url(postgres_db_url: str) -> str:
    """This folder's inventory is PostgreSQL, migrated, seeded (site fra1) and with the queue's schema."""
    db = Database(postgres_db_url)
    upgrade(db)
    _seed(db)
    db.dispose()
    ensure_schema(postgres_db_url)
    return postgres_db_url


@dataclass
class Workers:
    """`rackctl worker` processes of one test; each is stopped (SIGINT, then waited for) at the end."""

    env: dict[str, str]
    folder: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, site: str, *extra: str, netns: str = "", db_url: str = "") -> subprocess.Popen[bytes]:
        """A worker for `site`; with `netns`, inside that network namespace (then reaching the database
        through `db_url`, e.g. its Unix socket, which no namespace confines)."""
        log = (self.folder / f"{name}.log").open("wb")
        env = {**self.env, "RACKCTL_DB_URL": db_url} if db_url else self.env
        args = [
            *(["ip", "netns", "exec", netns] if netns else []),
            sys.executable,
            "-m",
            "rackctl",
            "worker",
            "--site",
            site,
            "--name",
            name,
            "--stalled-after",
            "3",
            *extra,
        ]
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.running[name] = process
        until(lambda: "Starting worker" in self.log(name) or process.poll() is not None, f"worker {name} to start")
        assert process.poll() is None, self.log(name)
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGINT)
        for process in self.running.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self.running.clear()


@pytest.fixture
def workers(db_url: str, cli: Callable[..., CliResult], tmp_path: Path) -> Iterator[Workers]:
    env = {**os.environ, "RACKCTL_DB_URL": db_url, "RACKCTL_CONFIG": str(tmp_path / "no-config.toml"),
           "RACKCTL_STATE_DIR": str(tmp_path / "state"), "RACKCTL_ACTOR": "tester"}  # fmt: skip
    handle = Workers(env, tmp_path)
    try:
        yield handle
    finally:
        handle.stop_all()


@pytest.fixture
def two_sites(cli: Callable[..., CliResult]) -> Iterator[Callable[..., CliResult]]:
    """Rack r12 in fra1 and r13 in ams1 (four IPMI nodes and four PDUs each) simulated, without SSH hosts."""
    assert cli("site", "add", "ams1").exit_code == 0
    for rack, site in (("r12", "fra1"), ("r13", "ams1")):
        assert cli("rack", "create", rack, "-t", "h100-4node-air", "-s", site).exit_code == 0
    result = cli("lab", "up", "r12", "r13", "--no-hosts")
    assert result.exit_code == 0, result.stderr
    try:
        yield cli
    finally:
        cli("lab", "down")
