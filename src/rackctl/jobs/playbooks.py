"""Provisioning and bring-up on the queue: one job per rack on SITE.provision (workers set up with Ansible),
the run's settings as the job's arguments, and the results read back from the operation log.

A job carries what the command line said (tags, check, batch, extra variables, inventory-override paths);
the worker adds its own state folder and forks. Override files are read on the worker at the path given, so
a worker must see them there (a shared or deployed file); extra variables travel in the job's arguments,
which is why they hold references to secrets, never secrets (as everywhere in rackctl).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rackctl.inventory.db import Database
from rackctl.jobs import follow
from rackctl.jobs.enqueue import Group, Queued, enqueue, groups
from rackctl.jobs.queue import BRINGUP, PROVISION, Kind
from rackctl.services import bringup as bringup_service
from rackctl.services.provision import HostOutcome, RunSpec
from rackctl.services.provision.service import describe
from rackctl.types import NodeState

_CARRIED = ("tags", "skip_tags", "check", "diff", "playbook", "extra_vars", "batch", "max_fail_percentage", "timeout_s")


def spec_arguments(spec: RunSpec) -> dict[str, Any]:
    """The parts of a run the job carries (JSON), override paths made absolute."""
    carried = {name: getattr(spec, name) for name in _CARRIED}
    return {**carried, "overrides": [str(Path(p).absolute()) for p in spec.overrides]}


def spec_of(arguments: dict[str, Any], names: Sequence[str], label: str, db_url: str, state_dir: Path,
            forks: int) -> RunSpec:  # fmt: skip
    """The worker's RunSpec for one job: the job's settings, the worker's folder and forks."""
    carried = {name: arguments[name] for name in _CARRIED}
    carried |= {"tags": tuple(carried["tags"]), "skip_tags": tuple(carried["skip_tags"])}
    overrides = tuple(Path(p) for p in arguments["overrides"])
    return RunSpec(tuple(names), db_url, state_dir, **carried, overrides=overrides, forks=forks, label=label)


def provision_jobs(url: str, db: Database, spec: RunSpec, allow_in_service: bool, actor: str) -> list[Queued]:
    """One provisioning job per rack of the spec's hosts, on SITE.provision."""

    def arguments(group: Group) -> dict[str, Any]:
        return {"names": list(group.names), "label": group.label, "spec": spec_arguments(spec),
                "allow_in_service": allow_in_service, "actor": actor}  # fmt: skip

    return enqueue(url, Kind.PROVISION, PROVISION, groups(db, spec.hosts), arguments)


def bringup_jobs(url: str, db: Database, settings: bringup_service.Settings, actor: str) -> list[Queued]:
    """One bring-up job per rack of the nodes, on SITE.provision (its provisioning step runs Ansible)."""

    def arguments(group: Group) -> dict[str, Any]:
        return {"names": list(group.names), "label": group.label, "spec": spec_arguments(settings.run),
                "stagger_s": settings.stagger_s, "ssh_timeout_s": settings.ssh_timeout_s,
                "trust_new_keys_by": settings.trust_new_keys_by, "actor": actor}  # fmt: skip

    return enqueue(url, Kind.PROVISION, BRINGUP, groups(db, settings.run.hosts), arguments)


def provision_outcomes(db: Database, spec: RunSpec, ended: Sequence[follow.Ended]) -> list[HostOutcome]:
    """Each host's outcome as its job recorded it; hosts of a job that recorded nothing fail, saying why."""
    outcomes = []
    for end, operation in follow.operations(db, describe(replace(spec, label="")), ended):
        rows = {r.target: r for r in operation.results} if operation else {}
        for name in end.queued.group.names:
            row = rows.get(name)
            if row is None:
                outcomes.append(HostOutcome(name, ok=False, reached=False, message=_missing(end, operation)))
                continue
            detail = row.detail or {}
            failed_task, changed = str(detail.get("failed_task", "")), int(detail.get("changed", 0))
            interrupted = bool(detail.get("interrupted"))
            outcomes.append(HostOutcome(name, row.ok, interrupted=interrupted, changed=changed,
                                        failed_task=failed_task, message=row.message))  # fmt: skip
    return outcomes


def bringup_reports(db: Database, ended: Sequence[follow.Ended], states: dict[str, NodeState]) -> list[
    bringup_service.Report
]:  # fmt: skip
    """Each node's bring-up as its job recorded it; nodes of a job that recorded nothing fail, saying why
    (`states`: where each node stood when the command queued it)."""
    reports = []
    for end, operation in follow.operations(db, "bringup", ended):
        rows = {r.target: r for r in operation.results} if operation else {}
        for name in end.queued.group.names:
            row, now = rows.get(name), states[name]
            if row is None:
                reports.append(bringup_service.Report(name, now, now, False, message=_missing(end, operation)))
                continue
            detail = row.detail or {}
            failed = str(detail.get("failed_step", ""))
            message = row.message.removeprefix(f"{failed}: ") if failed else row.message
            reports.append(bringup_service.Report(
                name, NodeState(detail.get("start", now)), NodeState(detail.get("end", now)), row.ok,
                list(detail.get("steps", [])), failed, message, str(detail.get("hint", "")),
            ))  # fmt: skip
    return reports


def _missing(end: follow.Ended, operation: object) -> str:
    if operation is None:
        return str(follow.why(end))
    return f"no result recorded (job {end.queued.job_id} {end.status}): state unknown"
