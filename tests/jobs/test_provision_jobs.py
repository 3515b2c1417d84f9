"""`provision --queue/--wait` on real `rackctl worker` processes: the worker runs the playbook (ansible-playbook
reaching a real sshd on 127.0.0.1) and the job's result is read back from the operation log as the direct
run's table; a worker SIGKILLed mid-provision leaves the job "interrupted", never run again; a queued bring-up
prints the direct run's summary."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation
from rackctl.jobs.recovery import INTERRUPTED, WORKER_DIED
from rackctl.services import hostkeys
from tests.conftest import CliResult
from tests.jobs.conftest import Workers, until
from tests.provision.conftest import sshd, sshd_host_key, sshd_root  # noqa: F401 (fixtures)

NODE = "gpu-r12-u03"


@pytest.fixture
def rack(cli: Callable[..., CliResult], db: Database, sshd_host_key: Path) -> Callable[..., CliResult]:  # noqa: F811
    """Rack r12 in fra1; its first node's SSH host key pinned to the lab sshd's (what provisioning checks)."""
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    kind, key = sshd_host_key.read_text().split()[:2]
    with db.transaction() as session:
        hostkeys.pin_known(session, "tester", [queries.device(session, NODE)], kind, key, "test")
    return cli


def _override(folder: Path, port: int, **extra: object) -> Path:
    """Ansible reaches the node at 127.0.0.1:PORT as a user the server does not let in."""
    path = folder / "reach.yml"
    host = {"ansible_host": "127.0.0.1", "ansible_port": port, "ansible_user": "nobody-rackctl",
            "ansible_ssh_private_key_file": str(folder / "absent-key"), **extra}  # fmt: skip
    path.write_text(yaml.safe_dump({"all": {"hosts": {NODE: host}}}))
    return path


def _operations(db: Database, job: int) -> list[Operation]:
    with db.transaction() as session:
        return list(session.scalars(select(Operation).where(Operation.command.endswith(f"(job {job})"))))


def test_a_queued_provision_runs_on_the_sites_worker_and_wait_prints_the_direct_runs_table(
    rack: Callable[..., CliResult],
    workers: Workers,
    db: Database,
    sshd: int,  # noqa: F811
    tmp_path: Path,
) -> None:
    workers.start("w-fra1", "fra1", "--queues", "provision")
    override = _override(tmp_path, sshd)
    direct = rack("provision", NODE, "--check", "-i", str(override), "--json")
    queued = rack("provision", NODE, "--check", "-i", str(override), "--wait", "--json")
    assert (direct.exit_code, queued.exit_code) == (1, 1), queued.stderr
    [mine], [theirs] = json.loads(direct.stdout), json.loads(queued.stdout)
    assert (theirs["host"], theirs["ok"]) == (NODE, False)
    assert "Permission denied" in mine["message"] and "Permission denied" in theirs["message"]  # the server said no
    [job] = [j["id"] for j in rack("jobs", "list", "--json").json()]  # type: ignore[union-attr]
    assert f"rackctl:provision[{job}]" in workers.log("w-fra1")
    [operation] = _operations(db, job)
    assert operation.command == f"provision --check --batch 25% {NODE} (job {job})"
    table = rack("provision", NODE, "--check", "-i", str(override), "--wait")
    assert table.exit_code == 1 and "Provision (check)" in table.stdout and "Permission denied" in table.stdout


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says anything (ssh waits for a banner that never comes);
    closing it at the end resets the waiting connection, so an orphaned ansible-playbook ends too."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_a_worker_killed_mid_provision_is_left_interrupted_never_repeated(
    rack: Callable[..., CliResult], workers: Workers, db: Database, silent_server: int, tmp_path: Path
) -> None:
    override = _override(tmp_path, silent_server, ansible_timeout=300, ansible_ssh_timeout=300)
    workers.start("doomed", "fra1", "--queues", "provision")
    queued = rack("provision", NODE, "--check", "-i", str(override), "--queue", "--json")
    assert queued.exit_code == 0, queued.stderr
    [job] = [j["job"] for j in json.loads(queued.stdout)]
    until(lambda: _operations(db, job), "the provision's intent in the operation log")
    workers.kill("doomed")
    workers.start("heir", "fra1", "--queues", "provision")
    until(lambda: rack("jobs", "show", str(job), "--json").json()["status"] == "interrupted",  # type: ignore[index,call-overload]
          "the dead worker's job to be marked interrupted")  # fmt: skip
    [operation] = _operations(db, job)
    with db.transaction() as session:
        operation = session.get(Operation, operation.id)
        assert operation is not None and operation.end is not None and operation.end.interrupted == WORKER_DIED
        assert [(r.target, r.message, r.detail["outcome"]) for r in operation.results] == [
            (NODE, INTERRUPTED, "unknown")
        ]
    assert f"rackctl:provision[{job}]" not in workers.log("heir")
    shown = rack("jobs", "show", str(job))
    assert "interrupted" in shown.stdout and INTERRUPTED in shown.stdout


def test_a_queued_bringup_prints_the_direct_runs_summary_from_the_worker(
    cli: Callable[..., CliResult], workers: Workers, db: Database
) -> None:
    # A BMC that refuses the inventory's password stops the node at the first step, with a hint (as in
    # tests/provision/test_cli.py's direct run), here on the site's provisioning worker.
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("lab", "up", "--no-hosts").exit_code == 0
    try:
        assert cli("lab", "fault", "gpu-r12-u03", "wrong-password").exit_code == 0
        assert cli("device", "set", "gpu-r12-u03", "--state", "racked", "--reason", "mounted").exit_code == 0
        workers.start("w-fra1", "fra1", "--queues", "provision")
        result = cli("bringup", "gpu-r12-u03", "--wait", "--json")
        assert result.exit_code == 1, result.stderr
        [report] = result.json()  # type: ignore[misc]
        assert (report["node"], report["ok"], report["failed_step"], report["end"]) == (
            "gpu-r12-u03", False, "bmc", "failed"
        )  # fmt: skip
        assert "refused the credentials" in report["message"] and report["hint"]
        [job] = [j["id"] for j in cli("jobs", "list", "--json").json()]  # type: ignore[union-attr]
        assert f"rackctl:bringup[{job}]" in workers.log("w-fra1")
        assert [o.command for o in _operations(db, job)] == [f"bringup gpu-r12-u03 (job {job})"]
    finally:
        cli("lab", "down")
