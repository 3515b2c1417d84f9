"""The tasks a worker runs: each is one service call for one rack, exactly as the CLI would make it.

Results go where a direct run puts them (audit runs and findings, the operation log); what the tables
record as the targets carries the job's id (`tag`), so the results of a job can be found again.
Reads are retried by the queue when the job itself fails (a database hiccup); actions are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import procrastinate

from rackctl import fanout
from rackctl.errors import Interrupted
from rackctl.inventory.db import Database
from rackctl.jobs import guard
from rackctl.jobs.queue import AUDIT, BRINGUP, POWER_ACT, POWER_READ, PROVISION, SCHEDULED_AUDIT, tag
from rackctl.services import power
from rackctl.services.audit.jobs import SshAccess
from rackctl.services.audit.run import AuditOptions, audit
from rackctl.services.bmc import run_on_nodes
from rackctl.types import Layer, PowerAction

READS_RETRIED = procrastinate.RetryStrategy(max_attempts=3, wait=2)


@dataclass(frozen=True)
class WorkerSetup:
    """What every task of one worker process shares (handed to tasks as procrastinate's context)."""

    db: Database
    ssh: SshAccess
    job_timeout: float
    name: str
    url: str = ""  # the inventory's, for jobs that queue more jobs (scheduled audits)


class JobStopped(Interrupted):
    """The job's deadline passed or it was aborted: its results so far are recorded, the rest not started."""


def _setup(context: Any) -> WorkerSetup:
    setup: WorkerSetup = context.additional_context["rackctl"]
    return setup


def _raise_if_stopped(stop: fanout.Stop) -> None:
    if stop:
        raise JobStopped(f"stopped: {stop.reason}")


def audit_rack(
    context: Any, target: str, layers: list[str], workers: int, timeout: float, retries: int, actor: str
) -> dict[str, Any]:
    """`rackctl audit TARGET --layers ...` for one rack's devices."""
    setup = _setup(context)
    with guard.bounded(setup.job_timeout, context.should_abort) as stop:
        options = AuditOptions(
            tuple(Layer(layer) for layer in layers), workers, timeout, retries, ssh=setup.ssh, stop=stop
        )
        report = audit(setup.db, target, options, actor, label=tag(target, context.job.id))
    _raise_if_stopped(stop)
    return {"run_id": report.run_id, "exit_code": report.exit_code}


def _power(
    context: Any, action: str, names: list[str], label: str, options: fanout.Options, actor: str, wait: float
) -> dict[str, Any]:
    setup = _setup(context)
    reading = action == "status"
    kind = None if reading else PowerAction(action)
    operation = power.status if kind is None else power.action(kind, wait)
    doing = "" if kind is None else power.DOING[kind]
    with guard.bounded(setup.job_timeout, context.should_abort) as stop:
        options.stop = stop
        outcome = run_on_nodes(
            setup.db, actor, names, f"power {action}", operation, options, label=tag(label, context.job.id), doing=doing
        )
    _raise_if_stopped(stop)
    return {"ok": outcome.ok}


def power_read(
    context: Any, names: list[str], label: str, workers: int, timeout: float, retries: int, actor: str
) -> dict[str, Any]:
    """`rackctl power status` for one rack's nodes."""
    return _power(context, "status", names, label, fanout.Options(workers, timeout, retries), actor, 0.0)


def power_act(
    context: Any,
    action: str,
    names: list[str],
    label: str,
    wait: float,
    workers: int,
    timeout: float,
    retries: int,
    actor: str,
) -> dict[str, Any]:
    """`rackctl power on|off|soft|cycle|reset` for one rack's nodes (never retried by the queue)."""
    if PowerAction(action) in power.NOT_RETRIED:
        retries = 0
    options = fanout.Options(workers, timeout + wait, retries)
    return _power(context, action, names, label, options, actor, wait)


def _run_spec(context: Any, names: list[str], label: str, spec: dict[str, Any]) -> Any:
    """The job's playbook run with this worker's own Ansible folder and forks (its settings)."""
    from rackctl.config import load_settings
    from rackctl.jobs.playbooks import spec_of

    setup, settings = _setup(context), load_settings()
    ansible = settings.resolved_state_dir / "ansible"
    return spec_of(spec, names, tag(label, context.job.id), setup.url or setup.db.url, ansible,
                   max(1, min(settings.workers, 64)))  # fmt: skip


def provision_rack(
    context: Any, names: list[str], label: str, spec: dict[str, Any], allow_in_service: bool, actor: str
) -> dict[str, Any]:
    """`rackctl provision` for one rack's nodes (never retried: a run cut off leaves its nodes unknown)."""
    from rackctl.services.provision import Cancel, provision

    setup = _setup(context)
    run = _run_spec(context, names, label, spec)
    with guard.bounded(setup.job_timeout, context.should_abort) as stop:
        cancel = Cancel()
        cancel.event = stop.requested  # the job's deadline or an abort stops the play at its next task
        outcomes = provision(setup.db, run, actor, None, allow_in_service, cancel)
    _raise_if_stopped(stop)
    return {"ok": all(o.ok for o in outcomes)}


def bringup_rack(
    context: Any, names: list[str], label: str, spec: dict[str, Any], stagger_s: float, ssh_timeout_s: float,
    trust_new_keys_by: str, actor: str,
) -> dict[str, Any]:  # fmt: skip
    """`rackctl bringup` for one rack's nodes (never retried: power-ons and provisioning act)."""
    from rackctl.services import bringup

    setup = _setup(context)
    run = _run_spec(context, names, label, spec)
    settings = bringup.Settings(run, stagger_s, ssh_timeout_s, trust_new_keys_by=trust_new_keys_by)
    reports = bringup.bringup(setup.db, names, settings, actor, run.forks)
    return {"ok": all(r.ok for r in reports)}


def scheduled_audit(context: Any, timestamp: int, site: str, layers: list[str]) -> dict[str, Any]:
    """A periodic tick: queue one audit job per rack of the site (the same jobs `audit --queue` queues)."""
    from rackctl import targets
    from rackctl.jobs.fleet import audit_jobs

    setup = _setup(context)
    with setup.db.transaction() as session:
        names = targets.resolve(session, f"@site:{site}")
    options = AuditOptions(tuple(Layer(layer) for layer in layers), ssh=setup.ssh)
    jobs = audit_jobs(setup.url, setup.db, names, options, f"schedule ({setup.name})")
    return {"jobs": [j.job_id for j in jobs], "tick": timestamp}


def register(app: Any) -> None:
    """Register rackctl's tasks on `app` (reads retried by the queue when the job itself fails)."""
    every: tuple[tuple[str, Any, Any], ...] = (
        (AUDIT, audit_rack, READS_RETRIED),
        (POWER_READ, power_read, READS_RETRIED),
        (POWER_ACT, power_act, False),
        (SCHEDULED_AUDIT, scheduled_audit, False),
        (PROVISION, provision_rack, False),
        (BRINGUP, bringup_rack, False),
    )
    for name, function, retry in every:
        app.task(name=name, pass_context=True, retry=retry)(function)


def repeatable(task_name: str, task_kwargs: dict[str, Any]) -> bool:
    """Whether a job cut off by its worker's death may simply run again: reads, and power actions that
    read the state first (on, off, soft: a second run finds the state reached and does nothing)."""
    if task_name in (AUDIT, POWER_READ, SCHEDULED_AUDIT):
        return True
    if task_name == POWER_ACT:
        return PowerAction(task_kwargs["action"]) not in power.NOT_RETRIED
    return False
