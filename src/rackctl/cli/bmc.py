"""`rackctl sensors`, `rackctl sel ...`, `rackctl bmc inventory|probe|users|rotate`."""

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
    finish,
    guard,
    plain,
    report,
    resolve_names,
    run_nodes,
)
from rackctl.services import oob
from rackctl.services.bmc import accounts, rotation
from rackctl.services.bmc_inventory import detect_protocols, update_inventory

sel_app = typer.Typer(help="BMC event logs (IPMI SEL, Redfish LogService).", no_args_is_help=True)
bmc_app = typer.Typer(
    help="BMC facts and accounts: hardware inventory, protocol detection, users, password rotation.",
    no_args_is_help=True,
)


def sensors_cmd(
    target: TargetsArg,
    details: Annotated[bool, typer.Option("--details", help="Every sensor, not one line per node.")] = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Temperatures, fans, PSU input power and state, with their health."""
    options = fanout_options(workers, timeout, retries)
    results = run_nodes("sensors", target, oob.read_sensors, options)
    if as_json or not details:
        report("Sensors", results, as_json, describe=_sensor_line)
    rows = [
        (
            r.target,
            s.name,
            "" if s.value is None else f"{s.value:g} {s.unit}",
            s.state,
            output.status(s.health.value in ("ok", "unknown"), s.health.value, s.health.value),
        )
        for r in results
        if r.ok
        for s in r.value
    ]
    output.table("Sensors", ["node", "sensor", "reading", "state", "health"], rows)
    for failed in (r for r in results if not r.ok):
        output.error(f"{failed.target}: {failed.message}")
    finish(results)


def _sensor_line(readings: list[Any]) -> str:
    summary = oob.sensor_summary(readings)
    parts = [
        f"{summary['sensors']} sensors",
        f"max {summary['max_temp_c']:g} °C" if summary["max_temp_c"] else "",
        f"{summary['power_w']} W in" if summary["power_w"] else "",
    ]
    bad = summary["unhealthy"]
    parts.append(f"NOT OK: {', '.join(bad)}" if bad else "all healthy")
    return ", ".join(p for p in parts if p)


@sel_app.command("list")
def sel_list(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Read the event logs."""
    results = run_nodes("sel list", target, oob.read_events, fanout_options(workers, timeout, retries))
    if not as_json:
        rows = [(r.target, e.timestamp, e.severity.value, e.message) for r in results if r.ok for e in r.value]
        output.table("Events", ["node", "when", "severity", "message"], rows)
    report("Event log reads", results, as_json, describe=lambda events: f"{len(events)} event(s)")


@sel_app.command("clear")
def sel_clear(
    target: TargetsArg,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """Clear the event logs (asks first)."""
    names = guard("clear the event logs of", target, dry_run, yes, always=True)
    results = run_nodes("sel clear", target, oob.clear_events, fanout_options(workers, timeout, 0), names)
    report("Event logs cleared", results, as_json)


@bmc_app.command("inventory")
def bmc_inventory(
    target: TargetsArg,
    update: Annotated[
        bool, typer.Option("--update", help="Write serials, MACs and firmware into the inventory.")
    ] = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """What the BMCs report (model, serial, firmware, PSUs, MACs), checked against the inventory."""
    results = run_nodes("bmc inventory", target, oob.read_inventory, fanout_options(workers, timeout, retries))
    checked = update_inventory(state().database(), actor(), results, update)
    mismatches = checked.mismatches
    if as_json:
        output.emit_json(
            {
                "nodes": [plain(r.value) if r.ok else {"target": r.target, "error": r.message} for r in results],
                "mismatches": [plain(m) for m in mismatches],
                "skipped": [plain(s) for s in checked.skipped],
            }
        )
    else:
        rows = [
            (
                r.target,
                r.value.model,
                r.value.serial,
                r.value.bmc_firmware,
                r.value.bios_firmware,
                len(r.value.power_supplies),
            )
            for r in results
            if r.ok
        ]
        output.table("BMC inventory", ["node", "model", "serial", "BMC fw", "BIOS fw", "PSUs"], rows)
        if mismatches:
            output.table(
                "Differs from the inventory",
                ["node", "field", "inventory", "BMC says"],
                [(m.device, m.field, m.expected, m.observed) for m in mismatches],
            )
        for skipped in checked.skipped:
            output.note(f"warning: {skipped.device}: {skipped}")
        for failed in (r for r in results if not r.ok):
            output.error(f"{failed.target}: {failed.message}")
    finish(results)


@bmc_app.command("probe")
def bmc_probe(target: TargetsArg, as_json: JsonOption = False) -> None:
    """Find out whether each BMC speaks Redfish or IPMI, and record it (for protocol auto)."""
    results = detect_protocols(state().database(), actor(), resolve_names(target), fanout_options(None, None, 0))
    report("BMC protocols", results, as_json)


@bmc_app.command("users")
def bmc_users(
    target: TargetsArg,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """BMC accounts (Redfish AccountService, IPMI user slots); factory defaults still enabled are flagged."""
    results = run_nodes("bmc users", target, accounts.read_users, fanout_options(workers, timeout, retries))
    if not as_json:
        rows = [
            (r.target, a.id, a.username, a.role, "yes" if a.enabled else "no", "LOCKED" if a.locked else "",
             "FACTORY DEFAULT" if a.enabled and a.username in accounts.FACTORY_ACCOUNTS else "")
            for r in results
            if r.ok
            for a in r.value.accounts
        ]  # fmt: skip
        output.table("BMC accounts", ["node", "id", "user", "role", "enabled", "locked", "flag"], rows)
    report("BMC accounts", results, as_json)


@bmc_app.command("rotate")
def bmc_rotate(
    target: TargetsArg,
    shared: Annotated[
        bool, typer.Option("--shared", help="BMCs that share one secret reference get one new password together.")
    ] = False,
    length: Annotated[int, typer.Option("--length", min=8, max=64, help="Characters of the new password.")] = 20,
    batch: changes.BatchOption = 8,
    max_failure_rate: changes.FailureRateOption = 0.25,
    allow_in_service: changes.InServiceOption = False,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """New BMC passwords: set, proven by a login, then written where each endpoint's file: reference points."""
    database = state().database()
    rollout = changes.rollout(batch, max_failure_rate, allow_in_service)
    run = rotation.prepare(database, changes.bmc_nodes(target), rollout, shared)
    changes.ask("rotate the BMC password of", run.nodes, len(run.settled), dry_run, yes)
    fan = fanout_options(workers, timeout, 0, extra_time=60.0)
    results = rotation.execute_run(database, actor(), f"bmc rotate {target}", run, rollout, length, fan)
    changes.show("BMC password rotation", results, as_json)
