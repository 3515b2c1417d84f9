"""`rackctl pdu ...`: PDU outlets (status, on, off, cycle), readings, and feed verification."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rackctl import fanout
from rackctl.cli import complete, output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption, actor, confirm, state, transaction
from rackctl.cli.fanout_view import (
    RetriesOption,
    TimeoutOption,
    WorkersOption,
    fanout_options,
    interruptible,
    report,
    result_dict,
)
from rackctl.drivers.base import Meter
from rackctl.services import pdu, pduplan, pduprobe, pduswitch, verifyfeeds
from rackctl.services.pdu import OutletResult, PduReport
from rackctl.services.pduplan import PlannedPdu
from rackctl.types import PowerAction

pdu_app = typer.Typer(help="PDU outlets: status, on, off, cycle; readings; feed verification.", no_args_is_help=True)

SpecArg = Annotated[str, typer.Argument(help="PDU[:OUTLETS], e.g. pdu-r12-a1:25-27,30 or pdu-r12-[a1,b1].")]
WaitOption = Annotated[float, typer.Option("--wait", min=0, help="Seconds to read the new state back.")]
DESTRUCTIVE = (PowerAction.OFF, PowerAction.CYCLE)


def describe(value: OutletResult) -> str:
    feeds = f" - feeds {value.feeds}" if value.feeds else ""
    return f"{value.message}{feeds}"


@pdu_app.command("status")
def pdu_status(
    spec: SpecArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Read each outlet's state (and what the inventory says it feeds)."""
    options = fanout_options(workers, timeout, retries)
    outcome = pdu.status(state().database(), actor(), spec, options)
    report("PDU outlets", outcome.results, as_json, describe)


def _dry_run(action: PowerAction, planned: list[PlannedPdu], as_json: bool) -> None:
    """Print the plan (inventory only: no PDU is asked, no credential read) and stop."""
    if as_json:
        output.emit_json([_plan_row(p) for p in planned])
    for item in [] if as_json else planned:
        output.line(f"would switch {action.value} {pduplan.describe(item)}")
    raise typer.Exit(0)


def _plan_row(item: PlannedPdu) -> dict[str, Any]:
    return {
        "pdu": item.name,
        "outlets": list(item.numbers),
        "whole_pdu": item.whole,
        "counted_by": item.counted_by or "unknown until the PDU is read",
        "powers": item.affected(),
    }


def _guard(action: PowerAction, planned: list[PlannedPdu], yes: bool, options: fanout.Options) -> list[PlannedPdu]:
    """Count what will really be switched; ask first for many outlets, and always for a whole PDU."""
    planned = pduswitch.count_unknown(state().database(), planned, options)
    count = sum(len(p.numbers) for p in planned)
    whole = any(p.whole for p in planned)
    if action in DESTRUCTIVE and (whole or count > state().settings.confirm_over):
        listing = "; ".join(pduplan.describe(p) for p in planned)
        total = f"{count} outlet(s) on {len(planned)} PDUs: " if len(planned) > 1 else ""
        confirm(f"switch {action.value} {total}{listing}?", yes)
    return planned


def _register(action: PowerAction, summary: str, default_wait: float) -> None:
    def command(
        spec: SpecArg,
        wait: WaitOption = default_wait,
        dry_run: DryRunOption = False,
        yes: YesOption = False,
        as_json: JsonOption = False,
        workers: WorkersOption = None,
        timeout: TimeoutOption = None,
    ) -> None:
        with transaction() as session:
            planned = pduplan.plan(session, spec)
        if dry_run:
            _dry_run(action, planned, as_json)
        options = fanout_options(workers, timeout, 0)
        planned = _guard(action, planned, yes, options)
        command = f"pdu {action.value} {spec}"
        with interruptible():
            outcome = pduswitch.switch(state().database(), actor(), command, planned, action, options, wait)
        report(f"PDU {action.value}", outcome.results, as_json, describe)

    command.__doc__ = summary
    pdu_app.command(action.value)(command)


_register(PowerAction.ON, "Switch outlets on (outlets already on are left alone).", 10.0)
_register(
    PowerAction.OFF, "Switch outlets off (asks first for more than one outlet, and always for a whole PDU).", 10.0
)
_register(PowerAction.CYCLE, "Cycle outlets with the PDU's own command; an outlet that is off stays off.", 30.0)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _shown(item: PduReport, meter: Meter) -> bool:
    """Every point above outlets; an outlet only where it feeds something or draws current."""
    return meter.level != "outlet" or bool(item.feeds.get(meter.number)) or (meter.current_a or 0) > 0


def _print_readings(item: PduReport) -> None:
    ident, readings = item.identity, item.readings
    output.line(
        f"{item.pdu}: {ident.manufacturer} {ident.model}, serial {ident.serial or '-'}, "
        f"firmware {ident.firmware or '-'} ({readings.family})"
    )
    load = readings.load_w
    output.line(f"  load {_fmt(load / 1000 if load is not None else None)} kW")
    chained = len({m.unit for m in readings.meters}) > 1
    rows = [
        (
            m.level,
            f"{m.unit}:{m.name}" if chained else m.name,
            _fmt(m.current_a),
            _fmt(m.power_w, 0),
            _fmt(m.voltage_v, 1),
            _fmt(m.energy_kwh, 1),
            _fmt(m.power_factor),
            _fmt(m.rating_a, 0),
            item.feeds.get(m.number, "") if m.level == "outlet" and m.unit == 1 else "",
        )
        for m in readings.meters
        if _shown(item, m)
    ]
    columns = ["what", "name", "A", "W", "V", "kWh", "PF", "rated A", "feeds"]
    output.table(None, columns, rows)
    for problem in item.problems:
        output.error(f"{item.pdu}: {problem}")


@pdu_app.command("readings")
def pdu_readings(
    spec: SpecArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Identity and load; current, power, voltage, energy, power factor and rating per unit, inlet,
    line, phase, bank and outlet (outlets that feed something or draw current). Exit 1 when a PDU
    does not answer, measures nothing, or answers values that cannot be read."""
    results = pdu.readings(state().database(), spec, fanout_options(workers, timeout, retries))
    if as_json:
        output.emit_json([result_dict(r) for r in results])
    for result in results if not as_json else []:
        if result.ok and result.value is not None:
            _print_readings(result.value)
        else:
            output.line(f"{result.target}: {result.message}")
    failed = [r.target for r in results if not r.ok]
    unreadable = [r.target for r in results if r.ok and r.value is not None and r.value.problems]
    if failed and not as_json:
        output.error(f"{len(failed)} PDU(s) gave no readings: {', '.join(failed)}")
    raise typer.Exit(1 if failed or unreadable else 0)


@pdu_app.command("probe")
def pdu_probe(
    spec: SpecArg,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Store what was found.")] = True,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """Find each PDU's MIB family (sysObjectID, then the families' own objects) and what it is: vendor,
    model, serial, firmware, units, outlets, phases, banks, switched, metered. Stores it in the
    inventory (the platform where it was `auto` or unset, the rest in the device's facts)."""
    options = fanout_options(workers, timeout, 0)
    results = pduprobe.probe(state().database(), actor(), spec, options, record)
    report("PDU probe", results, as_json, pduprobe.describe)


@pdu_app.command("verify-feeds")
def pdu_verify_feeds(
    node: Annotated[
        str,
        typer.Argument(autocompletion=complete.devices, help="The node whose power cords to check, e.g. gpu-r12-u03."),
    ],
    settle: Annotated[
        float, typer.Option("--settle", min=1, help="Seconds to wait for the BMC to see a change.")
    ] = 15.0,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Switch the node's outlets off one at a time and check through its BMC which PSU loses input."""
    plan = verifyfeeds.plan_verify(state().database(), node)
    order = ", ".join(f"{f.label} ({'+'.join(f.psus)})" for f in plan.feeds)
    if dry_run:
        output.line(f"would switch off, one at a time, and back on: {order}")
        raise typer.Exit(0)
    confirm(f"switch off, one at a time, the outlets feeding {node}: {order}?", yes)
    outcome = verifyfeeds.verify(state().database(), actor(), node, fanout_options(None, timeout, 0), settle)
    report(f"Feeds of {node}", outcome.results, as_json)
