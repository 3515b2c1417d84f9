"""Real `rackctl worker` processes on a real PostgreSQL queue against lab BMCs (ipmi_sim) of two sites:
a site's jobs run only on its workers; a worker SIGKILLed mid-audit loses no result (the audit is run
again by another worker); one SIGKILLed mid-cycle is never repeated (it is left "interrupted")."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import AuditRun, Operation
from rackctl.jobs.recovery import INTERRUPTED, WORKER_DIED
from rackctl.services import leases
from tests.conftest import CliResult
from tests.jobs.conftest import Workers, until


def _jobs(cli: Callable[..., CliResult]) -> dict[int, dict[str, object]]:
    return {j["id"]: j for j in cli("jobs", "list", "--json").json()}  # type: ignore[union-attr]


def _queued(result: CliResult) -> list[int]:
    assert result.exit_code == 0, result.stderr
    return [j["job"] for j in json.loads(result.stdout)]


def _status(cli: Callable[..., CliResult], job: int) -> str:
    return str(_jobs(cli)[job]["status"])


def test_a_sites_jobs_run_only_on_that_sites_worker(two_sites: Callable[..., CliResult], workers: Workers) -> None:
    workers.start("w-fra1", "fra1", "--queues", "audit")
    workers.start("w-ams1", "ams1", "--queues", "audit")
    # 120 s a device: a loaded machine's BMC reads take long, and a device not audited would fail the count.
    result = two_sites(
        "audit", "@rack:r12,@rack:r13", "--layers", "bmc,pdu", "--timeout", "120", "--wait", "--format", "json"
    )
    report = json.loads(result.stdout)
    assert report["summary"]["not_audited"] == 0, report["not_audited"]
    assert report["summary"]["devices"] == 16  # 4 nodes and 4 PDUs per rack
    by_queue = {j["queue"]: j["id"] for j in _jobs(two_sites).values()}
    assert set(by_queue) == {"fra1.audit", "ams1.audit"}
    fra1, ams1 = workers.log("w-fra1"), workers.log("w-ams1")
    assert f"rackctl:audit[{by_queue['fra1.audit']}]" in fra1 and f"rackctl:audit[{by_queue['ams1.audit']}]" not in fra1
    assert f"rackctl:audit[{by_queue['ams1.audit']}]" in ams1 and f"rackctl:audit[{by_queue['fra1.audit']}]" not in ams1


def test_a_worker_killed_mid_audit_loses_no_result(
    two_sites: Callable[..., CliResult], workers: Workers, db: Database
) -> None:
    assert two_sites("lab", "fault", "gpu-r12-u03", "bmc-slow").exit_code == 0  # the audit takes a while
    workers.start("doomed", "fra1", "--queues", "audit")
    [job] = _queued(two_sites("audit", "@rack:r12", "--layers", "bmc,pdu", "--timeout", "120", "--queue",
                              "--format", "json"))  # fmt: skip
    until(lambda: _status(two_sites, job) == "doing", "the audit to start")
    workers.kill("doomed")
    workers.start("heir", "fra1", "--queues", "audit")
    until(lambda: _status(two_sites, job) == "succeeded", "the audit to be run again and end")
    with db.transaction() as session:
        runs = list(session.scalars(select(AuditRun).where(AuditRun.targets.endswith(f"(job {job})"))))
    assert [(r.devices, r.not_audited) for r in runs] == [(8, 0)]
    assert _jobs(two_sites)[job]["attempts"] == 2  # the killed attempt, and the one that ran it again
    assert f"rackctl:audit[{job}]" in workers.log("heir")


def test_a_worker_killed_mid_cycle_is_left_interrupted_never_repeated(
    two_sites: Callable[..., CliResult], workers: Workers, db: Database
) -> None:
    assert two_sites("power", "on", "@rack:r12").exit_code == 0
    assert two_sites("lab", "fault", "gpu-r12-u03", "bmc-slow").exit_code == 0
    workers.start("doomed", "fra1", "--queues", "bmc")
    [job] = _queued(two_sites("power", "cycle", "@rack:r12", "--queue", "--yes", "--json"))
    suffix = f"(job {job})"

    def operations() -> list[Operation]:
        with db.transaction() as session:
            query = select(Operation).where(Operation.command.endswith(suffix))
            return list(session.scalars(query))

    until(operations, "the cycle's intent in the operation log")
    workers.kill("doomed")
    workers.start("heir", "fra1", "--queues", "bmc")
    until(lambda: _status(two_sites, job) == "interrupted", "the dead worker's job to be marked interrupted")
    with db.transaction() as session:
        [operation] = session.scalars(select(Operation).where(Operation.command.endswith(suffix)))
        assert operation.end is not None and operation.end.interrupted == WORKER_DIED
        unknown = [r.target for r in operation.results if r.detail.get("outcome") == "unknown"]
    assert "gpu-r12-u03" in unknown  # the slow node cannot have finished: its state is unknown, for a person
    assert f"rackctl:power.act[{job}]" not in workers.log("heir")
    assert [j["id"] for j in two_sites("jobs", "list", "--status", "interrupted", "--json").json()] == [job]  # type: ignore[union-attr]
    assert two_sites("jobs", "list", "--status", "failed", "--json").json() == []
    shown = two_sites("jobs", "show", str(job))
    assert "interrupted" in shown.stdout and INTERRUPTED in shown.stdout


def test_a_scheduled_audit_is_a_periodic_task_queueing_the_sites_racks(
    two_sites: Callable[..., CliResult], workers: Workers, db: Database
) -> None:
    # procrastinate defers a periodic task's latest tick when a worker starts: no minute to wait for.
    workers.start("w-fra1", "fra1", "--queues", "audit", "--audit-every", "1m", "--audit-layers", "bmc,pdu")

    def scheduled() -> list[AuditRun]:
        with db.transaction() as session:
            return list(session.scalars(select(AuditRun).where(AuditRun.actor.startswith("schedule"))))

    # On a loaded machine the next minute's tick may have queued a second audit by now: each is the same.
    runs = until(scheduled, "the scheduled audit's run")
    for run in runs:  # type: ignore[attr-defined]
        assert "gpu-r12-u[03,11,19,27]" in run.targets and "r13" not in run.targets and run.devices == 8
        assert run.layers == ["bmc", "pdu"]
    queues = {j["queue"] for j in _jobs(two_sites).values()}
    assert queues == {"fra1.audit"}  # the tick and the rack's audit; nothing for ams1, which no worker serves


def test_a_worker_leaves_a_device_another_run_holds_alone(
    two_sites: Callable[..., CliResult], workers: Workers, db: Database
) -> None:
    assert two_sites("power", "on", "@rack:r12").exit_code == 0
    workers.start("w-fra1", "fra1", "--queues", "bmc")
    lease = leases.acquire(db, ["gpu-r12-u11"], "cycled", "alice")  # a person, or another worker, at it now
    try:
        result = two_sites("power", "cycle", "@rack:r12", "--follow", "--yes", "--json")
    finally:
        lease.release()
    assert result.exit_code == 1
    by_node = {r["target"]: r for r in json.loads(result.stdout)}
    assert by_node["gpu-r12-u11"]["error"].startswith("gpu-r12-u11 is being cycled by alice since")
    assert [n for n, r in by_node.items() if r["ok"]] == ["gpu-r12-u03", "gpu-r12-u19", "gpu-r12-u27"]
