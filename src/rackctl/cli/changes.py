"""What the BMC-side change commands (firmware update, bios apply, bmc rotate, media insert|eject) share:
their rollout options, the confirmation that counts exactly the nodes that will be touched, and the
waits of work that outlasts a BMC reset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl import targets
from rackctl.cli import output
from rackctl.cli.common import confirm, state, transaction
from rackctl.cli.fanout_view import finish, plain, report
from rackctl.cli.power import parse_duration
from rackctl.services.bmc import split_nodes
from rackctl.services.bmc.rollout import Rollout
from rackctl.services.bmc.tasks import Waits

BatchOption = Annotated[int, typer.Option("--batch", min=1, help="Nodes changed at once.")]
FailureRateOption = Annotated[
    float,
    typer.Option("--max-failure-rate", min=0.0, max=1.0, help="Stop once more than this share of nodes failed."),
]
InServiceOption = Annotated[
    bool, typer.Option("--allow-in-service", help="Also change nodes whose lifecycle state is in-service.")
]
TaskWaitOption = Annotated[str, typer.Option("--task-timeout", help="How long one update task may run.")]
BmcWaitOption = Annotated[
    str, typer.Option("--bmc-wait", help="How long a BMC (or a rebooting host) may stay away before it counts failed.")
]
PollOption = Annotated[str, typer.Option("--poll", help="How often to ask a BMC about a task or its return.")]
ServeAddressOption = Annotated[
    str,
    typer.Option("--serve-address", help="Address the image server listens on (default: the one routing to each BMC)."),
]


def bmc_nodes(expression: str) -> list[str]:
    """The node set's devices that have a BMC; the others (switches, PDUs) are named and left out."""
    with transaction() as session:
        nodes, others = split_nodes(session, targets.resolve(session, expression))
    if others:
        output.note(f"left out {len(others)} device(s) without a BMC: {targets.fold(others)}")
    return nodes


def rollout(batch: int, max_failure_rate: float, allow_in_service: bool) -> Rollout:
    return Rollout(batch, max_failure_rate, allow_in_service)


def waits(task_timeout: str, bmc_wait: str, poll: str = "2s") -> Waits:
    every = max(0.05, parse_duration(poll, "--poll"))
    return Waits(parse_duration(task_timeout, "--task-timeout"), parse_duration(bmc_wait, "--bmc-wait"), every)


def cache_dir() -> Path:
    """Where URL images are downloaded to (and checked) before they are served."""
    return state().settings.resolved_state_dir / "image-cache"


def ask(action: str, touched: Sequence[str], untouched: int, dry_run: bool, yes: bool) -> None:
    """Say exactly which nodes will be changed; stop for --dry-run; otherwise ask (or take --yes)."""
    rest = f" ({untouched} other node(s) left as they are)" if untouched else ""
    if not touched:
        output.note(f"nothing to {action}{rest}")
        return
    line = f"{action} {len(touched)} node(s): {targets.fold(list(touched))}{rest}"
    if dry_run:
        output.line(f"would {line}")
        raise typer.Exit(0)
    confirm(f"{line}?", yes)


def _detail(result: Any) -> dict[str, Any]:
    """A result as JSON, with the before/after detail its value (or its error) carries."""
    if result.ok:
        return {"target": result.target, "ok": True, "message": str(result.value),
                "detail": plain(getattr(result.value, "detail", {}))}  # fmt: skip
    return {"target": result.target, "ok": False, "error": result.message,
            "detail": plain(getattr(result.error, "detail", {}))}  # fmt: skip


def show(title: str, results: Sequence[Any], as_json: bool) -> None:
    """One line per node (or JSON with every node's before/after); exit 1 unless every node succeeded."""
    if as_json:
        output.emit_json([_detail(r) for r in results])
        finish(results)
    report(title, results, as_json)
