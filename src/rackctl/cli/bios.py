"""`rackctl bios get|diff|apply`: BIOS settings against the profile, through the BMCs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rackctl.cli import changes, output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption, actor, state
from rackctl.cli.fanout_view import (
    RetriesOption,
    TargetsArg,
    TimeoutOption,
    WorkersOption,
    fanout_options,
    report,
    run_nodes,
)
from rackctl.services.bmc import bios, bios_run

bios_app = typer.Typer(help="BIOS settings: read them, compare with the profile, apply (pending until a reboot).",
                       no_args_is_help=True)  # fmt: skip


@bios_app.command("get")
def get_cmd(
    target: TargetsArg,
    attribute: Annotated[list[str] | None, typer.Option("--attribute", "-a", help="Only these attributes.")] = None,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Current BIOS attributes, what is staged for the next reset, and the registry the BMC names."""
    results = run_nodes("bios get", target, bios.read_bios, fanout_options(workers, timeout, retries))
    wanted = set(attribute or [])
    if not as_json:
        rows = [
            (r.target, name, value, r.value.state.pending.get(name, ""))
            for r in results
            if r.ok
            for name, value in sorted(r.value.state.attributes.items())
            if not wanted or name in wanted
        ]
        output.table("BIOS", ["node", "attribute", "current", "pending"], rows)
    report("BIOS", results, as_json, describe=_describe_read)


def _describe_read(read: Any) -> str:
    state = read.state
    registry = f"registry {state.registry}" + ("" if read.registry else " (not served)")
    return f"{len(state.attributes)} attributes, {len(state.pending)} pending; {registry}"


@bios_app.command("diff")
def diff_cmd(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """The profile's BIOS settings against each node's (exit 1 when a node differs or cannot be read)."""
    results = bios_run.diffs(state().database(), changes.bmc_nodes(target), fanout_options(workers, timeout, retries))
    if not as_json:
        rows = [
            (r.target, row.source, row.attribute, row.current, row.pending, row.wanted, row.status, row.problem)
            for r in results
            if r.ok
            for row in r.value.rows
        ]
        columns = ["node", "setting", "attribute", "current", "pending", "wanted", "status", "problem"]
        output.table("BIOS against the profile", columns, rows)
    report("BIOS diff", results, as_json, describe=str)


@bios_app.command("apply")
def apply_cmd(
    target: TargetsArg,
    reboot: Annotated[
        bool, typer.Option("--reboot", help="Reboot (power-sequenced) so the settings apply, then confirm them.")
    ] = False,
    batch: changes.BatchOption = 4,
    max_failure_rate: changes.FailureRateOption = 0.25,
    allow_in_service: changes.InServiceOption = False,
    bmc_wait: changes.BmcWaitOption = "10m",
    poll: changes.PollOption = "2s",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """Stage the profile's BIOS settings (checked against the BMC's registry first); --reboot applies them."""
    rollout = changes.rollout(batch, max_failure_rate, allow_in_service)
    waits = changes.waits("30m", bmc_wait, poll)
    database = state().database()
    run = bios_run.prepare(database, changes.bmc_nodes(target), rollout, fanout_options(workers, timeout, 0))
    for name, found in run.diffs.items():
        staged = ", ".join(f"{k}={v}" for k, v in found.changes.items())
        output.note(
            f"{name}: {staged}" + (f", SecureBootEnable={found.secure_boot}" if found.secure_boot is not None else "")
        )
    verb = "apply BIOS settings (and reboot)" if reboot else "stage BIOS settings on"
    changes.ask(verb, list(run.diffs), len(run.settled), dry_run, yes)
    fan = fanout_options(workers, timeout, 0, extra_time=2 * waits.bmc_s if reboot else 0.0)
    results = bios_run.execute_run(database, actor(), f"bios apply {target}", run, rollout, reboot, waits, fan)
    changes.show("BIOS apply", results, as_json)
