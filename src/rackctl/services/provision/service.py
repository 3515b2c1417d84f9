"""`rackctl provision`: check the targets, run the playbook, record each host's result and lifecycle move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device
from rackctl.inventory.names import one_line
from rackctl.services import journal, leases, oplog
from rackctl.services.provision.events import HostOutcome, Progress
from rackctl.services.provision.runner import Cancel, RunSpec, run_playbook
from rackctl.types import DeviceRole, NodeState, transition_allowed

_NO_RESULT = "no result: the play never reached this host"
# States a converge without changes leaves alone: the node already proved itself.
_KEEP_WHEN_UNCHANGED = frozenset({NodeState.VALIDATED, NodeState.IN_SERVICE})


def check_targets(session: Session, names: Sequence[str], allow_in_service: bool = False) -> None:
    """Refuse targets the playbook cannot act on (or may only touch when asked), before anything runs."""
    in_service = []
    for device in queries.devices(session, names):
        if device.state == NodeState.IN_SERVICE:
            in_service.append(device.name)
        if device.role != DeviceRole.GPU_NODE:
            raise ValidationError(f"{device.name} is a {device.role}: only gpu-node devices are provisioned")
        if device.profile is None or not device.profile.nvidia_driver:
            raise ValidationError(
                f"{device.name} has no profile with a pinned nvidia_driver",
                hint="assign one: rackctl device set NAME --profile PROFILE",
            )
        if device.state == NodeState.DECOMMISSIONED:
            raise ValidationError(f"{device.name} is decommissioned")
    if in_service and not allow_in_service:
        raise ValidationError(
            f"{len(in_service)} node(s) in service: {', '.join(in_service[:8])}{' ...' if len(in_service) > 8 else ''}"
            " (a changed pin reboots them)",
            hint="drain them first (rackctl device set NAME --state maintenance), or pass --allow-in-service",
        )


def describe(spec: RunSpec) -> str:
    """The command as recorded in the operation log."""
    words = ["provision"]
    words += [f"--tags {','.join(spec.tags)}"] if spec.tags else []
    words += ["--check"] if spec.check else []
    words += ["--diff"] if spec.diff else []
    words += [f"--batch {spec.batch}"] if spec.batch != "100%" else []
    words += [spec.label] if spec.label else []
    return " ".join(words)


def summary_line(outcome: HostOutcome, check: bool) -> str:
    if not outcome.ok:
        return f"{outcome.failed_task}: {outcome.message}" if outcome.failed_task else outcome.message
    verb = "would change" if check else "changed"
    return f"{outcome.changed} task(s) {verb}"


def next_state(device: Device, outcome: HostOutcome, spec: RunSpec) -> tuple[NodeState, str] | None:
    """Where a run moves the node, and why; None to leave it."""
    if spec.check or not outcome.reached:
        return None
    step = "burn-in" if spec.wants_burnin else "provision"
    if outcome.interrupted:
        return NodeState.FAILED, f"{step} interrupted: {outcome.message}"
    if not outcome.ok:
        # Figures first: the reason is cut at 512 characters and a long failure message must not hide them.
        figures = _figures(outcome)
        measured = " (measured " + ", ".join(f"{k}={v}" for k, v in figures.items()) + ")" if figures else ""
        return NodeState.FAILED, f"{step}{measured}: {summary_line(outcome, False)}"
    if spec.wants_burnin:
        return NodeState.VALIDATED, burnin_summary(outcome)
    if device.state in _KEEP_WHEN_UNCHANGED and outcome.changed == 0:
        return None
    return NodeState.PROVISIONED, f"converged to profile {device.profile.name if device.profile else '?'}"


def burnin_summary(outcome: HostOutcome) -> str:
    """What a passed burn-in measured, for the lifecycle history."""
    return "burn-in passed: " + ", ".join(f"{k}={v}" for k, v in _figures(outcome).items())


def _figures(outcome: HostOutcome) -> dict[str, object]:
    figures = outcome.facts.get("rackctl_burnin", {})
    return {k: v for k, v in figures.items() if v is not None} if isinstance(figures, dict) else {}


def settle(session: Session, actor: str, spec: RunSpec, outcomes: dict[str, HostOutcome]) -> list[oplog.TargetResult]:
    """Move each host's lifecycle state; each host's result as the operation log keeps it."""
    results = []
    for device in queries.devices(session, spec.hosts):
        outcome = outcomes[device.name]
        move = next_state(device, outcome, spec)
        if move is not None:
            state, reason = move
            change_state(
                session, device, state, actor, one_line(reason, 512), force=not transition_allowed(device.state, state)
            )
        detail = {
            "changed": outcome.changed,
            "changed_tasks": outcome.changed_tasks[:50],
            "failed_task": outcome.failed_task,
            "check": spec.check,
            "interrupted": outcome.interrupted,
            "reached": outcome.reached,
            **({"burnin": _figures(outcome)} if spec.wants_burnin else {}),
        }
        results.append(oplog.TargetResult(device.name, outcome.ok, summary_line(outcome, spec.check), detail))
    return results


def provision(
    db: Database,
    spec: RunSpec,
    actor: str,
    progress: Progress | None = None,
    allow_in_service: bool = False,
    cancel: Cancel | None = None,
) -> list[HostOutcome]:
    """Converge `spec.hosts` (or burn them in, with the burnin tag); every host gets an outcome.

    Each node is leased (a check changes nothing and leases none): a node another run holds is left out of
    the play with that run's description. The operation is in the log with every node before the play
    starts; a crash leaves the nodes without a result as unknown."""
    with db.transaction() as session:
        check_targets(session, spec.hosts, allow_in_service or spec.check)
    hosts = list(spec.hosts)
    with (
        leases.held(db, [] if spec.check else hosts, "provisioned", actor) as lease,
        journal.opened(db, actor, describe(spec), hosts) as log,
    ):
        outcomes = {h: HostOutcome(h, ok=False, reached=False, message=lease.refused[h]) for h in lease.refused}
        free = tuple(h for h in hosts if h not in outcomes)
        if free:
            outcomes |= run_playbook(replace(spec, hosts=free, db_url=spec.db_url or db.url), progress, cancel)
        for host in hosts:
            outcomes.setdefault(host, HostOutcome(host, ok=False, message=_NO_RESULT))
        with db.transaction() as session:
            results = settle(session, actor, spec, outcomes)
        log.finish_recorded(results, interrupted=_interruption(outcomes, cancel))
    return [outcomes[h] for h in hosts]


def _interruption(outcomes: dict[str, HostOutcome], cancel: Cancel | None) -> str:
    """Why the run ended early, as the operation log's end says it ("" when it did not)."""
    if cancel is not None and cancel():
        return "cancelled"
    return "stopped before every node finished" if any(o.interrupted for o in outcomes.values()) else ""
