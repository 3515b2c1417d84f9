"""A private PostgreSQL server for the tests that need PostgreSQL whatever backend the suite runs on
(advisory locks, grants, triggers): the one named by RACKCTL_TEST_DB_URL, or a throw-away one started here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found: apt-get install postgresql (scripts/install-deps --test)"
        )
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_server() -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1 with its data in a scratch folder; yield its URL; remove it all after."""
    binaries, port = _bin(), _free_port()
    data = Path(tempfile.mkdtemp(prefix="rackctl-test-pg."))
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(data, "postgres")
    pg_ctl = [*run_as, str(binaries / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*run_as, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*pg_ctl, "-w", "-l", str(data / "log"), "-o", options, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
