"""`rackctl power ...`, `rackctl boot ...`, `rackctl identify`: out-of-band control through the BMCs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from rackctl import fanout
from rackctl.cli import output, powerseq
from rackctl.cli.common import DryRunOption, JsonOption, YesOption
from rackctl.cli.fanout_view import (
    QueueOption,
    RetriesOption,
    TargetsArg,
    TimeoutOption,
    WaitForOption,
    WorkersOption,
    bmc_nodes,
    fanout_options,
    guard,
    interruptible,
    report,
    run_nodes,
)
from rackctl.errors import NotStarted, ValidationError
from rackctl.services import oob, power, restore
from rackctl.targets import fold
from rackctl.types import BootDevice, PowerAction

power_app = typer.Typer(help="Power through the BMCs: status, on, off, soft, cycle, reset.", no_args_is_help=True)
boot_app = typer.Typer(help="Next boot device through the BMCs.", no_args_is_help=True)

WaitOption = Annotated[float, typer.Option("--wait", min=0, help="Seconds to confirm the new state (0: don't).")]
HoldOption = Annotated[str, typer.Option("--hold", help="With waves: how long a wave may wait for PDU headroom.")]
# `--wait` already means "seconds to confirm the new state" here: following queued jobs is --follow.
FollowOption = Annotated[bool, typer.Option("--follow", help="Queue one job per rack, follow them, print results.")]


@dataclass(frozen=True)
class Queueing:
    """--queue / --follow: where the command runs (here, or on the sites' workers)."""

    queue: bool = False
    follow: bool = False
    wait_for: float = 3600.0

    def __bool__(self) -> bool:
        return self.queue or self.follow


def _queued(action: str, target: str, names: list[str] | None, wait: float, options: fanout.Options, how: Queueing,
            as_json: bool) -> None:  # fmt: skip
    from rackctl.cli import queued  # the task queue: only when asked for

    queued.power(action, target, names, wait, options, how.follow, how.wait_for, as_json)


class Via(StrEnum):
    BMC = "bmc"
    PDU = "pdu"


@power_app.command("status")
def power_status(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    queue: QueueOption = False,
    follow: FollowOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Read each node's power state (--queue/--follow: on the sites' workers)."""
    options = fanout_options(workers, timeout, retries)
    how = Queueing(queue, follow, wait_for)
    if how:
        _queued("status", target, None, 0.0, options, how, as_json)
    results = run_nodes("power status", target, power.status, options)
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
    how: Queueing = Queueing(),
) -> None:
    if dry_run:
        _preview(kind, target, as_json, fanout_options(workers, timeout, retries))
    if how:
        from rackctl.cli.queued import require_queue

        require_queue()
    names = guard(f"power {kind.value}", target, False, yes) if kind in power.DESTRUCTIVE else bmc_nodes(target)
    options = fanout_options(workers, timeout, retries, extra_time=wait)
    if kind in power.NOT_RETRIED:
        options.retries = 0
    if how:
        _queued(kind.value, target, names, wait, fanout_options(workers, timeout, retries), how, as_json)
    results = run_nodes(f"power {kind.value}", target, power.action(kind, wait), options, names, power.DOING[kind])
    report(f"Power {kind.value}", results, as_json)


def _preview(kind: PowerAction, target: str, as_json: bool, options: fanout.Options) -> None:
    """--dry-run: read each node's state and show what the action would do to it; switch nothing."""
    names = bmc_nodes(target)
    if not as_json:
        output.line(f"would power {kind.value} {len(names)} node(s) with a BMC: {fold(names)}; their states now:")
    results = run_nodes(f"power {kind.value} --dry-run", target, power.preview(kind), options, names)
    report(f"Power {kind.value} (dry run: nothing was switched)", results, as_json)


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
        queue: QueueOption = False,
        follow: FollowOption = False,
        wait_for: WaitForOption = 3600.0,
    ) -> None:
        how = Queueing(queue, follow, wait_for)
        _action(kind, target, wait, dry_run, yes, as_json, workers, timeout, retries, how)

    command.__doc__ = summary
    power_app.command(kind.value)(command)


_register(PowerAction.OFF, "Hard power off (asks first for many nodes).", 30.0)
_register(PowerAction.SOFT, "ACPI shutdown: let the OS stop (asks first for many nodes).", 120.0)


@power_app.command("cycle")
def power_cycle(
    target: TargetsArg,
    via: Annotated[
        Via,
        typer.Option("--via", help="bmc: chassis power cycle; pdu: switch every outlet feeding the node off and on."),
    ] = Via.BMC,
    force: Annotated[
        bool, typer.Option("--force", help="--via pdu: cycle outlets that also feed other devices.")
    ] = False,
    off_time: Annotated[str, typer.Option("--off-time", help="--via pdu: how long the outlets stay off.")] = "5s",
    wait: Annotated[
        float | None,
        typer.Option("--wait", min=0, help="Seconds to confirm (default 30; --via pdu: 300, for the BMC to boot)."),
    ] = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    queue: QueueOption = False,
    follow: FollowOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Power cycle; a node that is off is powered on. --via pdu: at the PDU outlets (a hung BMC), then confirm."""
    how = Queueing(queue, follow, wait_for)
    if via == Via.BMC:
        confirm_s = 30.0 if wait is None else wait
        _action(PowerAction.CYCLE, target, confirm_s, dry_run, yes, as_json, workers, timeout, retries, how)
    if how:
        raise ValidationError("--queue/--follow: not with --via pdu (PDU cycles run here only)")
    options = fanout_options(workers, timeout, 0)
    off_s = parse_duration(off_time, "--off-time")
    powerseq.cycle_via_pdu(target, force, off_s, 300.0 if wait is None else wait, dry_run, yes, as_json, options)


_register(PowerAction.RESET, "Hard reset of running nodes (asks first for many nodes).", 30.0)


@power_app.command("on")
def power_on(
    target: TargetsArg,
    stagger: Annotated[str, typer.Option(help="Pause between batches (or waves), e.g. 5s (inrush).")] = "0s",
    batch: Annotated[int, typer.Option(min=1, help="Nodes per batch when staggering (most per wave).")] = 4,
    sequence: Annotated[
        bool, typer.Option("--sequence", help="Waves planned from the power budget, PDU load read between them.")
    ] = False,
    hold: HoldOption = "60s",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --sequence: print the wave plan and stop.")] = False,
    wait: WaitOption = 30.0,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    queue: QueueOption = False,
    follow: FollowOption = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Power on; nodes already on are left alone. --stagger/--batch spread the inrush; --sequence budgets it."""
    pause = parse_duration(stagger, "--stagger")
    how = Queueing(queue, follow, wait_for)
    if how and (sequence or dry_run or pause > 0):
        raise ValidationError("--queue/--follow: not with --sequence, --dry-run or --stagger (those run here only)")
    if how:
        _queued("on", target, None, wait, fanout_options(workers, timeout, retries), how, as_json)
    if sequence or dry_run:
        run = restore.RunOptions(max_per_wave=batch, settle_s=pause, hold_s=parse_duration(hold, "--hold"), wait_s=wait)
        powerseq.sequenced(target, run, dry_run, as_json, fanout_options(workers, timeout, retries), restoring=False)
    names = bmc_nodes(target)
    options = fanout_options(workers, timeout, retries, extra_time=wait)
    operation, doing = power.action(PowerAction.ON, wait), power.DOING[PowerAction.ON]
    if pause <= 0:
        report("Power on", run_nodes("power on", target, operation, options, names, doing), as_json)
    results: list[Any] = []
    with interruptible() as stop:
        for start in range(0, len(names), batch):
            if start:
                output.note(f"waiting {pause:g}s before the next batch")
            if stop.requested.wait(pause if start else 0):
                idle = NotStarted(f"not started: interrupted ({stop.reason}) before its batch")
                results += [fanout.Result(n, error=idle, attempts=0) for n in names[start:]]
                break
            group = names[start : start + batch]
            results += run_nodes("power on", fold(group), operation, options, group, doing)
    report("Power on (staggered)", results, as_json)


@power_app.command("restore")
def power_restore(
    target: TargetsArg,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Most devices per wave.")] = 4,
    stagger: Annotated[str, typer.Option("--stagger", help="Pause after each wave before measuring.")] = "5s",
    hold: HoldOption = "60s",
    wait: Annotated[float, typer.Option("--wait", min=0, help="Seconds a BMC may take to answer.")] = 300.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the wave plan and stop.")] = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """After an outage: everything in the racks back on - network gear, then storage, then GPU nodes."""
    run = restore.RunOptions(batch, parse_duration(stagger, "--stagger"), parse_duration(hold, "--hold"), wait)
    powerseq.sequenced(target, run, dry_run, as_json, fanout_options(workers, timeout, retries), restoring=True)


def parse_duration(text: str, option: str) -> float:
    """'5s', '500ms', '2m', '1h' or a plain number of seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    stripped = text.strip().lower()
    for suffix in ("ms", "s", "m", "h"):
        if stripped.endswith(suffix):
            number, factor = stripped[: -len(suffix)], units[suffix]
            break
    else:
        number, factor = stripped, 1.0
    try:
        value = float(number) * factor
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValidationError(f"{option}: '{text}' is not a duration (e.g. 5s, 500ms, 2m)")
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
        dry_run: DryRunOption = False,
        yes: YesOption = False,
        as_json: JsonOption = False,
        workers: WorkersOption = None,
        timeout: TimeoutOption = None,
        retries: RetriesOption = None,
    ) -> None:
        how = "every boot" if not once else "next boot"
        action = f"set {how} from {device.value} on"
        # A persistent change outlives this run (every later reboot follows it): ask before making it on many.
        names = guard(action, target, dry_run, yes) if not once else bmc_nodes(target)
        if dry_run:
            output.line(f"would {action} {len(names)} node(s): {fold(names)}")
            raise typer.Exit(0)
        options = fanout_options(workers, timeout, retries)
        operation = oob.set_boot(device, persistent=not once, uefi=not legacy)
        doing = f"set to boot from {device.value}"
        report(
            f"Boot {device.value}", run_nodes(f"boot {device.value}", target, operation, options, names, doing), as_json
        )

    command.__doc__ = (
        f"Boot from {device.value} next time (--persistent: every time; asks first for more than one node)."
    )
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
    report("Identify", run_nodes("identify", target, oob.identify(not off), options), as_json)
