"""`rackctl jobs` and `--queue`/`--wait` on a real PostgreSQL queue with no worker running: jobs wait on
their site's queue, can be cancelled and queued again, and a `--wait` that gives up says so (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import CliResult


def _listed(cli: Callable[..., CliResult]) -> dict[int, dict[str, object]]:
    return {j["id"]: j for j in cli("jobs", "list", "--json").json()}  # type: ignore[union-attr]


def test_queued_jobs_wait_on_their_sites_queue_and_can_be_cancelled_and_queued_again(
    r12: Callable[..., CliResult],
) -> None:
    result = r12("power", "off", "@rack:r12", "--queue", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    [queued] = json.loads(result.stdout)
    assert queued["queue"] == "fra1.bmc" and queued["targets"] == "gpu-r12-u[03,11,19,27]"
    job = queued["job"]
    assert _listed(r12)[job]["status"] == "todo"
    assert r12("jobs", "cancel", str(job)).exit_code == 0
    assert _listed(r12)[job]["status"] == "cancelled"
    again = r12("jobs", "cancel", str(job))
    assert again.exit_code == 2 and f"job {job} cannot be cancelled" in again.stderr
    retried = r12("jobs", "retry", str(job))
    assert retried.exit_code == 0
    new = int(retried.stdout.split()[-1])
    assert _listed(r12)[new]["status"] == "todo" and _listed(r12)[new]["target"] == "gpu-r12-u[03,11,19,27]"
    shown = r12("jobs", "show", str(new), "--json").json()
    assert shown["arguments"]["action"] == "off" and shown["events"][0]["type"] == "deferred"  # type: ignore[index]


def test_a_wait_that_gives_up_reports_every_device_not_audited(r12: Callable[..., CliResult]) -> None:
    result = r12("audit", "@rack:r12", "--layers", "bmc", "--wait", "--wait-for", "1", "--format", "json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    reasons = {r["reason"] for r in report["not_audited"]}
    assert len(reasons) == 1 and "still todo when --wait gave up" in reasons.pop()


def test_a_job_that_is_not_there_is_one_line(cli: Callable[..., CliResult]) -> None:
    for args in (("jobs", "show", "999"), ("jobs", "retry", "999")):
        result = cli(*args)
        assert (result.exit_code, result.stderr.strip()) == (2, "error: no job 999\n  hint: rackctl jobs list".strip())
