"""`--queue` and `--wait` of fleet commands: enqueue one job per rack, print the job ids, and with
`--wait` follow them and print the same table a direct run prints (with its exit code)."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from rackctl import fanout
from rackctl.cli import output
from rackctl.cli.common import actor, state
from rackctl.cli.fanout_view import bmc_nodes, report, resolve_names
from rackctl.inventory import queries
from rackctl.jobs import fleet, follow
from rackctl.jobs import queue as queues
from rackctl.jobs.enqueue import Queued
from rackctl.services import bringup as bringup_service
from rackctl.services.audit.outcome import AuditReport
from rackctl.services.audit.run import AuditOptions
from rackctl.services.provision import HostOutcome, RunSpec


def require_queue() -> None:
    """A SQLite inventory is refused in one line before anything is resolved or asked."""
    queues.conninfo(state().url)


def _announce(jobs: Sequence[Queued], as_json: bool) -> None:
    if as_json:
        return
    output.table("Queued", ["job", "queue", "targets"], [(j.job_id, j.queue, j.group.label) for j in jobs])
    output.note(f"{len(jobs)} job(s) queued: rackctl jobs list, rackctl jobs show ID")


def _queued_only(jobs: Sequence[Queued], as_json: bool) -> None:
    """Without `--wait`: the job ids (as JSON with --json), exit 0."""
    if as_json:
        output.emit_json([{"job": j.job_id, "queue": j.queue, "targets": j.group.label} for j in jobs])
    raise typer.Exit(0)


def _seen(end: follow.Ended) -> None:
    output.note(f"job {end.queued.job_id} ({end.queued.group.label}): {end.status}")


def audit(target: str, options: AuditOptions, wait: bool, wait_for: float, as_json: bool) -> AuditReport | None:
    """Queue the audit; with `wait`, the merged report of its jobs (None: queued only, exit 0)."""
    require_queue()
    app = state()
    jobs = fleet.audit_jobs(app.url, app.database(), resolve_names(target), options, actor())
    _announce(jobs, as_json)
    if not wait:
        if as_json:
            output.emit_json([{"job": j.job_id, "queue": j.queue, "targets": j.group.label} for j in jobs])
        return None
    ended = follow.wait(app.url, jobs, wait_for, _seen)
    return fleet.audit_report(app.database(), ended, target, options)


def power(
    action: str, target: str, names: Sequence[str] | None, wait_s: float, options: fanout.Options, wait: bool,
    wait_for: float, as_json: bool,
) -> None:  # fmt: skip
    """Queue a power command per rack (on `names`, default the target's nodes with a BMC); with `wait`,
    print every node's result as a direct run does."""
    require_queue()
    names = names if names is not None else bmc_nodes(target)
    app = state()
    asked = fleet.Asked(actor(), options.workers, options.timeout, options.retries)
    jobs = fleet.power_jobs(app.url, app.database(), action, names, wait_s, asked)
    _announce(jobs, as_json)
    if not wait:
        _queued_only(jobs, as_json)
    ended = follow.wait(app.url, jobs, wait_for, _seen)
    results = follow.operation_results(app.database(), f"power {action}", ended)
    report(f"Power {action} (queued)", results, as_json)


def provision(spec: RunSpec, allow_in_service: bool, wait: bool, wait_for: float, as_json: bool) -> list[HostOutcome]:
    """Queue the run per rack on SITE.provision; with `wait`, every host's outcome as a direct run gives it."""
    from rackctl.jobs import playbooks

    app = state()
    jobs = playbooks.provision_jobs(app.url, app.database(), spec, allow_in_service, actor())
    _announce(jobs, as_json)
    if not wait:
        _queued_only(jobs, as_json)
    ended = follow.wait(app.url, jobs, wait_for, _seen)
    return playbooks.provision_outcomes(app.database(), spec, ended)


def bringup(settings: bringup_service.Settings, wait: bool, wait_for: float, as_json: bool) -> list[
    bringup_service.Report
]:  # fmt: skip
    """Queue the bring-up per rack on SITE.provision; with `wait`, every node's report."""
    from rackctl.jobs import playbooks

    app = state()
    with app.database().transaction() as session:
        states = {d.name: d.state for d in queries.devices(session, settings.run.hosts)}
    jobs = playbooks.bringup_jobs(app.url, app.database(), settings, actor())
    _announce(jobs, as_json)
    if not wait:
        _queued_only(jobs, as_json)
    ended = follow.wait(app.url, jobs, wait_for, _seen)
    return playbooks.bringup_reports(app.database(), ended, states)
