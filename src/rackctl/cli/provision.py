"""`rackctl provision TARGETS` (converge GPU nodes to their profile) and `rackctl bringup TARGETS`."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
import yaml

from rackctl import targets
from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, JsonOption, YesOption, actor, confirm, state, transaction
from rackctl.cli.fanout_view import QueueOption, WaitForOption
from rackctl.cli.trust import TrustNewKeysOption, trust_new_keys
from rackctl.errors import Location, ValidationError
from rackctl.services import bringup as bringup_service
from rackctl.services.provision import Cancel, HostOutcome, RunSpec, provision

_SHOWN = {"changed", "failed", "unreachable"}


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(t.strip() for v in values for t in v.split(",") if t.strip())


def load_extra_vars(path: Path | None) -> dict[str, object]:
    """Extra variables from a YAML file (`--extra-vars FILE`)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError(str(exc).splitlines()[0], Location(str(path))) from None
    if not isinstance(data, dict):
        raise ValidationError("must be a mapping of variable names to values", Location(str(path)))
    return data


OverrideOption = Annotated[
    list[Path] | None,
    typer.Option("--inventory-override", "-i", help="Extra Ansible inventory file (connection details)."),
]
ExtraVarsOption = Annotated[Path | None, typer.Option("--extra-vars", "-e", help="YAML file of extra variables.")]
# A node count or a percentage, as Ansible's `serial` takes it.
WaitOption = Annotated[
    bool, typer.Option("--wait", "--follow", help="Queue one job per rack, follow them, print the results.")
]
_BATCH = re.compile(r"^([1-9][0-9]*|([1-9][0-9]?|100)%)$")


def check_batch(value: str) -> str:
    """`--batch` as Ansible's serial takes it: a node count or 1-100%."""
    if not _BATCH.match(value):
        raise ValidationError(f"--batch {value!r}: give a node count (4) or a percentage (25%)")
    return value


def run_spec(target: str, override: list[Path] | None, extra_vars: Path | None) -> RunSpec:
    """The playbook run both commands share: resolved targets, state folder, overrides, forks."""
    settings = state().settings
    with transaction() as session:
        names = targets.resolve(session, target)
    return RunSpec(
        hosts=tuple(names),
        db_url=state().url,
        state_dir=settings.resolved_state_dir / "ansible",
        extra_vars=load_extra_vars(extra_vars),
        overrides=tuple(override or ()),
        forks=max(1, min(settings.workers, 64)),
    )


@contextmanager
def cancel_on_interrupt() -> Iterator[Cancel]:
    """First Ctrl-C stops the run at the next task and records every node's state; a second one aborts."""
    cancel = Cancel()

    def stop(signum: int, _frame: object) -> None:
        if cancel():
            raise KeyboardInterrupt
        cancel.event.set()
        output.note(f"stopping the run ({signal.Signals(signum).name}): nodes in it are recorded as interrupted")

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress(host: str, status: str, task: str) -> None:
    if status in _SHOWN:
        output.note(f"[{host}] {status:<11} {task}")


def _show(outcomes: list[HostOutcome], check: bool, diff: bool) -> None:
    if diff:
        for outcome in outcomes:
            for text in outcome.diff:
                output.line(f"--- {outcome.host}")
                output.line(text.rstrip())
    output.table(
        "Provision" + (" (check)" if check else ""),
        ["host", "result", "changed", "failed task", "message"],
        [(o.host, output.status(o.ok), o.changed, o.failed_task, o.message) for o in outcomes],
    )


def _require_queue(queued: bool) -> None:
    if queued:
        from rackctl.cli.queued import require_queue  # the task queue: only when asked for

        require_queue()


def _provision_queued(spec: RunSpec, allow_in_service: bool, wait: bool, wait_for: float, as_json: bool) -> list[
    HostOutcome
]:  # fmt: skip
    """The run on the sites' workers; its targets are checked here first, so a refusal is one line at once."""
    from rackctl.cli import queued
    from rackctl.services.provision.service import check_targets

    with transaction() as session:
        check_targets(session, spec.hosts, allow_in_service or spec.check)
    return queued.provision(spec, allow_in_service, wait, wait_for, as_json)


def provision_cmd(
    target: Annotated[
        str,
        typer.Argument(
            autocompletion=complete.targets, help="Node set, e.g. gpu-r12-u[03,11] or @rack:r12&@role:gpu-node."
        ),
    ],
    tags: Annotated[list[str] | None, typer.Option("--tags", help="Only these tags (burnin only when named).")] = None,
    skip_tags: Annotated[list[str] | None, typer.Option("--skip-tags", help="Leave out these tags.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Change nothing; report what would change.")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Show the changes to files.")] = False,
    override: OverrideOption = None,
    extra_vars: ExtraVarsOption = None,
    batch: Annotated[
        str, typer.Option("--batch", help="Nodes changed at once: a count or a percentage (Ansible serial).")
    ] = "25%",
    max_fail: Annotated[
        int, typer.Option("--max-fail", min=0, max=100, help="Stop when more than this % of a batch failed.")
    ] = 20,
    timeout: Annotated[
        int,
        typer.Option("--timeout", min=0, help="Seconds for the whole run (0: none); then nodes read 'interrupted'."),
    ] = 14400,
    allow_in_service: Annotated[
        bool, typer.Option("--allow-in-service", help="Also change nodes in service (a pin change reboots them).")
    ] = False,
    trust_new: TrustNewKeysOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    queue: QueueOption = False,
    wait: WaitOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Converge nodes to their profile's pinned stack (driver, Fabric Manager, CUDA, DCGM, network, serving).

    --queue / --wait: run on the sites' provisioning workers (needs a PostgreSQL inventory)."""
    _require_queue(queue or wait)
    spec = run_spec(target, override, extra_vars)
    spec = replace(
        spec,
        tags=_split(tags or []),
        skip_tags=_split(skip_tags or []),
        check=check,
        diff=diff,
        batch=check_batch(batch),
        max_fail_percentage=max_fail,
        timeout_s=timeout,
    )
    if not check and len(spec.hosts) > state().settings.confirm_over:
        confirm(
            f"provision {len(spec.hosts)} node(s) ({targets.fold(list(spec.hosts))}), rebooting them as needed,"
            f" {batch} at a time?",
            yes,
        )
    if trust_new:
        trust_new_keys(target, "provision")
    if queue or wait:
        outcomes = _provision_queued(spec, allow_in_service, wait, wait_for, as_json)
    else:
        with cancel_on_interrupt() as cancel:
            outcomes = provision(
                state().database(), spec, actor(), None if as_json else _progress, allow_in_service, cancel
            )
    if as_json:
        output.emit_json([o.as_dict() for o in outcomes])
    else:
        _show(outcomes, check, diff)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(EXIT_FAILED)


def bringup_cmd(
    target: Annotated[
        str, typer.Argument(autocompletion=complete.targets, help="Node set, e.g. @rack:r12&@role:gpu-node.")
    ],
    stagger: Annotated[float, typer.Option("--stagger", min=0, help="Seconds between power-ons.")] = 5.0,
    ssh_timeout: Annotated[float, typer.Option("--ssh-timeout", min=1, help="Seconds to wait for SSH.")] = 900.0,
    override: OverrideOption = None,
    extra_vars: ExtraVarsOption = None,
    trust_new: TrustNewKeysOption = False,
    as_json: JsonOption = False,
    queue: QueueOption = False,
    wait: WaitOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """BMC -> PXE once -> staggered power-on -> SSH -> provision -> burn-in -> validated; resumable per node.

    --queue / --wait: run on the sites' provisioning workers (needs a PostgreSQL inventory)."""
    _require_queue(queue or wait)
    spec = run_spec(target, override, extra_vars)
    settings = bringup_service.Settings(
        run=spec, stagger_s=stagger, ssh_timeout_s=ssh_timeout, trust_new_keys_by=actor() if trust_new else ""
    )
    if queue or wait:
        from rackctl.cli import queued

        reports = queued.bringup(settings, wait, wait_for, as_json)
    else:
        workers = state().settings.workers
        reports = bringup_service.bringup(state().database(), list(spec.hosts), settings, actor(), workers)
    if as_json:
        output.emit_json([r.as_dict() for r in reports])
    else:
        output.table(
            "Bring-up",
            ["node", "from", "now", "result", "failed step", "message", "what to do"],
            [(r.node, r.start, r.end, output.status(r.ok), r.failed_step, r.message, r.hint) for r in reports],
        )
    if not all(r.ok for r in reports):
        raise typer.Exit(EXIT_FAILED)
