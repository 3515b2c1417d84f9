"""`rackctl firmware inventory|plan|update`: firmware against the profile's baseline."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rackctl.cli import changes, output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption, actor, state
from rackctl.cli.fanout_view import (
    QueueOption,
    RetriesOption,
    TargetsArg,
    TimeoutOption,
    WaitForOption,
    WorkersOption,
    fanout_options,
    report,
    run_nodes,
)
from rackctl.services.bmc import firmware, firmware_run

firmware_app = typer.Typer(help="Firmware: inventory, plan and staged updates to the profile's baseline.",
                           no_args_is_help=True)  # fmt: skip

WaitOption = Annotated[
    bool, typer.Option("--wait", "--follow", help="Queue one job per rack, follow them, print the results.")
]
ComponentsOption = Annotated[
    str, typer.Option("--components", help="Only these components of the baseline, e.g. bmc,bios (default: all).")
]


def _components(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@firmware_app.command("inventory")
def inventory_cmd(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Every firmware component each BMC reports (Redfish FirmwareInventory; IPMI: the BMC's own version)."""
    results = run_nodes("firmware inventory", target, firmware.read_firmware, fanout_options(workers, timeout, retries))
    if not as_json:
        rows = [(r.target, c.kind, c.name, c.version, c.id) for r in results if r.ok for c in r.value]
        output.table("Firmware", ["node", "kind", "component", "version", "id"], rows)
    report("Firmware inventory", results, as_json, describe=lambda found: f"{len(found)} component(s)")


def _plan_rows(results: list[Any]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for result in results:
        if not result.ok:
            continue
        node_plan = result.value
        for order, step in enumerate(node_plan.steps, start=1):
            after = "host reboot" if step.reboot else "BMC resets" if step.bmc_reset else "-"
            rows.append((result.target, order, step.kind, step.current, step.wanted.version, after))
        rows += [(result.target, "", kind, *node_plan.versions[kind], "at the baseline") for kind in node_plan.current]
        rows += [(result.target, "", kind, "", "", "not reported by the BMC") for kind in node_plan.missing]
    return rows


@firmware_app.command("plan")
def plan_cmd(
    target: TargetsArg,
    components: ComponentsOption = "",
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """What an update would change on each node, in which order, and which reboots it needs (changes nothing)."""
    options = fanout_options(workers, timeout, retries)
    results = firmware.plan(state().database(), changes.bmc_nodes(target), _components(components), options)
    if not as_json:
        columns = ["node", "order", "component", "now", "baseline", "then"]
        output.table("Firmware plan", columns, _plan_rows(results))
    report("Firmware plan", results, as_json, describe=_describe_plan)


def _describe_plan(node_plan: Any) -> str:
    if not node_plan.steps:
        return "at the baseline"
    steps = ", ".join(f"{s.kind} {s.current} -> {s.wanted.version}" for s in node_plan.steps)
    return steps + ("; needs a host reboot" if node_plan.reboot else "")


@firmware_app.command("update")
def update_cmd(
    target: TargetsArg,
    components: ComponentsOption = "",
    batch: changes.BatchOption = 4,
    max_failure_rate: changes.FailureRateOption = 0.25,
    allow_in_service: changes.InServiceOption = False,
    reboot: Annotated[
        bool, typer.Option("--reboot/--no-reboot", help="Reboot (power-sequenced) where new firmware needs it.")
    ] = True,
    task_timeout: changes.TaskWaitOption = "30m",
    bmc_wait: changes.BmcWaitOption = "10m",
    poll: changes.PollOption = "2s",
    serve_address: changes.ServeAddressOption = "",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    queue: QueueOption = False,
    wait: WaitOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Bring the nodes to the baseline: checked images, Redfish tasks, batches, power-sequenced reboots, verified.
    --queue / --wait: each rack planned and updated by its site's firmware worker (needs PostgreSQL)."""
    waits = changes.waits(task_timeout, bmc_wait, poll)
    rollout = changes.rollout(batch, max_failure_rate, allow_in_service)
    reads = fanout_options(workers, timeout, 0)
    if (queue or wait) and not dry_run:
        from rackctl.cli import queued  # the task queue: only when asked for
        from rackctl.jobs.firmware import Update

        update = Update(_components(components), rollout, waits, reboot, serve_address, reads.workers, reads.timeout)
        queued.firmware(target, update, wait, wait_for, yes, as_json)
    database = state().database()
    run = firmware_run.prepare(database, changes.bmc_nodes(target), _components(components), rollout, reads)
    for name, node_plan in run.plans.items():
        output.note(f"{name}: {_describe_plan(node_plan)}")
    changes.ask("update the firmware of", list(run.plans), len(run.settled), dry_run, yes)
    steps = max((len(p.steps) for p in run.plans.values()), default=1)
    long_enough = fanout_options(workers, None, 0, extra_time=steps * waits.task_s + 2 * waits.bmc_s)
    options = firmware_run.UpdateOptions(rollout, waits, reboot, serve_address, changes.cache_dir())
    results = firmware_run.execute_run(database, actor(), f"firmware update {target}", run, options, long_enough)
    changes.show("Firmware update", results, as_json)
