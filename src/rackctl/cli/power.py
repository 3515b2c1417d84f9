"""`rackctl power ...`, `rackctl boot ...`, `rackctl identify`: out-of-band control through the BMCs."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from rackctl.cli import output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption
from rackctl.cli.fanout_view import (
    RetriesOption,
    TargetsArg,
    TimeoutOption,
    WorkersOption,
    fanout_options,
    guard,
    report,
    resolve_names,
    run_nodes,
)
from rackctl.errors import ValidationError
from rackctl.services import oob, power
from rackctl.types import BootDevice, PowerAction

power_app = typer.Typer(help="Power through the BMCs: status, on, off, soft, cycle, reset.", no_args_is_help=True)
boot_app = typer.Typer(help="Next boot device through the BMCs.", no_args_is_help=True)

WaitOption = Annotated[float, typer.Option("--wait", min=0, help="Seconds to confirm the new state (0: don't).")]


@power_app.command("status")
def power_status(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Read each node's power state."""
    options = fanout_options(workers, timeout, retries)
    results = run_nodes("power status", target, power.status, options, len(resolve_names(target)))
    report("Power", results, as_json)


def _action(
    kind: PowerAction,
    target: str,
    wait: float,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    workers: int | None,
    timeout: float | None,
    retries: int | None,
) -> None:
    names = guard(f"power {kind.value}", target, dry_run, yes) if kind in power.DESTRUCTIVE else resolve_names(target)
    options = fanout_options(workers, timeout, retries, extra_time=wait)
    if kind in power.NOT_RETRIED:
        options.retries = 0
    results = run_nodes(f"power {kind.value}", target, power.action(kind, wait), options, len(names))
    report(f"Power {kind.value}", results, as_json)


def _register(kind: PowerAction, summary: str, default_wait: float) -> None:
    def command(
        target: TargetsArg,
        wait: WaitOption = default_wait,
        dry_run: DryRunOption = False,
        yes: YesOption = False,
        as_json: JsonOption = False,
        workers: WorkersOption = None,
        timeout: TimeoutOption = None,
        retries: RetriesOption = None,
    ) -> None:
        _action(kind, target, wait, dry_run, yes, as_json, workers, timeout, retries)

    command.__doc__ = summary
    power_app.command(kind.value)(command)


_register(PowerAction.OFF, "Hard power off (asks first for many nodes).", 30.0)
_register(PowerAction.SOFT, "ACPI shutdown: let the OS stop (asks first for many nodes).", 120.0)
_register(PowerAction.CYCLE, "Power cycle; a node that is off is powered on (asks first for many nodes).", 30.0)
_register(PowerAction.RESET, "Hard reset of running nodes (asks first for many nodes).", 30.0)


@power_app.command("on")
def power_on(
    target: TargetsArg,
    stagger: Annotated[str, typer.Option(help="Pause between batches, e.g. 5s (inrush).")] = "0s",
    batch: Annotated[int, typer.Option(min=1, help="Nodes per batch when staggering.")] = 4,
    wait: WaitOption = 30.0,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Power on; nodes already on are left alone. --stagger/--batch spread the inrush."""
    pause = parse_duration(stagger, "--stagger")
    names = resolve_names(target)
    options = fanout_options(workers, timeout, retries, extra_time=wait)
    if pause <= 0:
        report(
            "Power on", run_nodes("power on", target, power.action(PowerAction.ON, wait), options, len(names)), as_json
        )
    results = []
    for start in range(0, len(names), batch):
        if start:
            output.note(f"waiting {pause:g}s before the next batch")
            time.sleep(pause)
        group = ",".join(names[start : start + batch])
        results += run_nodes("power on", group, power.action(PowerAction.ON, wait), options, len(names))
    report("Power on (staggered)", results, as_json)


def parse_duration(text: str, option: str) -> float:
    """'5s', '500ms', '2m' or a plain number of seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    stripped = text.strip().lower()
    for suffix in ("ms", "s", "m"):
        if stripped.endswith(suffix):
            number, factor = stripped[: -len(suffix)], units[suffix]
            break
    else:
        number, factor = stripped, 1.0
    try:
        value = float(number) * factor
    except ValueError:
        raise ValidationError(f"{option}: '{text}' is not a duration (e.g. 5s, 500ms, 2m)") from None
    if value < 0:
        raise ValidationError(f"{option}: a duration cannot be negative")
    return value


def _boot(device: BootDevice) -> None:
    def command(
        target: TargetsArg,
        once: Annotated[
            bool, typer.Option("--once/--persistent", help="Next boot only (default) or every boot.")
        ] = True,
        legacy: Annotated[bool, typer.Option("--legacy", help="Legacy BIOS boot instead of UEFI.")] = False,
        as_json: JsonOption = False,
        workers: WorkersOption = None,
        timeout: TimeoutOption = None,
        retries: RetriesOption = None,
    ) -> None:
        options = fanout_options(workers, timeout, retries)
        operation = oob.set_boot(device, persistent=not once, uefi=not legacy)
        report(f"Boot {device.value}", run_nodes(f"boot {device.value}", target, operation, options, 0), as_json)

    command.__doc__ = f"Boot from {device.value} next time (--persistent: every time)."
    boot_app.command(device.value)(command)


for _device in BootDevice:
    _boot(_device)


def identify_cmd(
    target: TargetsArg,
    off: Annotated[bool, typer.Option("--off", help="Turn the identify LED off.")] = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Turn the identify LED on (or --off) so a technician can find the node in the row."""
    options = fanout_options(workers, timeout, retries)
    report("Identify", run_nodes("identify", target, oob.identify(not off), options, 0), as_json)
