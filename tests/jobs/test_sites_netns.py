"""Three sites, each a network namespace holding its rack's BMCs (ipmi_sim moved in there) and that site's
worker: no namespace reaches another's BMCs, yet an audit of all three racks queued from outside comes back
complete - every job ran where its BMCs are. The workers reach PostgreSQL through its Unix socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rackctl.lab import ipmi, processes
from rackctl.lab import state as lab_state
from tests.conftest import CliResult
from tests.jobs.conftest import Workers

SITES = {"fra1": "r12", "ams1": "r13", "sjc1": "r14"}


def _socket_url(db_url: str) -> str:
    """The same database through the server's Unix socket (a path: no network namespace confines it)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        folder = str(conn.execute(text("SHOW unix_socket_directories")).scalar()).split(",")[0].strip()
    engine.dispose()
    url = make_url(db_url)
    return url.set(host=None, query={"host": folder, "port": str(url.port or 5432)}).render_as_string(False)


@pytest.fixture
def sites(cli: Callable[..., CliResult], tmp_path: Path) -> Iterator[dict[str, str]]:
    """Site -> namespace; each site's rack simulated, its BMCs serving inside the site's namespace only."""
    for site, rack in SITES.items():
        if site != "fra1":
            assert cli("site", "add", site).exit_code == 0
        assert cli("rack", "create", rack, "-t", "h100-4node-air", "-s", site).exit_code == 0
    result = cli("lab", "up", *SITES.values(), "--no-hosts")
    assert result.exit_code == 0, result.stderr
    lab = lab_state.load(lab_state.lab_folder(tmp_path / "state", "default"))
    assert lab is not None
    namespaces, moved = {site: f"rkjob{os.getpid() % 100000}{site}" for site in SITES}, []
    try:
        for site, rack in SITES.items():
            subprocess.run(["ip", "netns", "add", namespaces[site]], check=True)
            subprocess.run(["ip", "-n", namespaces[site], "link", "set", "lo", "up"], check=True)
            for bmc in (b for name, b in lab.bmcs.items() if f"-{rack}-" in name):
                processes.stop([bmc.pid])
                moved.append(ipmi.start(Path(bmc.folder), ["ip", "netns", "exec", namespaces[site]]))
        yield namespaces
    finally:
        processes.stop(moved)
        for namespace in namespaces.values():
            subprocess.run(["ip", "netns", "del", namespace], check=False)
        cli("lab", "down")


def _status_from(namespace: str, rack: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = ["ip", "netns", "exec", namespace, sys.executable, "-m", "rackctl", "power", "status", f"@rack:{rack}"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_each_sites_jobs_run_in_its_own_network(
    sites: dict[str, str], workers: Workers, cli: Callable[..., CliResult], db_url: str
) -> None:
    socket_url = _socket_url(db_url)
    env = {**workers.env, "RACKCTL_DB_URL": socket_url}
    assert _status_from(sites["fra1"], "r12", env).returncode == 0
    elsewhere = _status_from(sites["fra1"], "r13", env)  # ams1's BMCs, from fra1's network
    assert elsewhere.returncode == 1 and "does not answer" in elsewhere.stdout
    for site, namespace in sites.items():
        workers.start(f"w-{site}", site, "--queues", "audit", netns=namespace, db_url=socket_url)
    result = cli(
        "audit", "@rack:r12,@rack:r13,@rack:r14", "--layers", "bmc", "--timeout", "120", "--wait", "--format", "json"
    )
    report = json.loads(result.stdout)
    assert report["summary"]["not_audited"] == 0, report["not_audited"]
    assert report["summary"]["devices"] == 12
