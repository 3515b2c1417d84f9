"""Power through the PDUs: `power cycle --via pdu`, `power on --sequence`, `power restore`."""

from __future__ import annotations

from typing import Any

import typer

from rackctl import fanout, targets
from rackctl.cli import output
from rackctl.cli.common import actor, confirm, state, transaction
from rackctl.cli.fanout_view import interruptible, report
from rackctl.errors import NotFound, NotStarted, RackctlError
from rackctl.inventory import queries
from rackctl.services import pducycle, restore
from rackctl.services.feeds import feeds_of
from rackctl.types import DeviceRole


def _cycle_plans(target: str) -> list[pducycle.CyclePlan]:
    """A plan per device of `target` that switched outlets feed (PDUs and unfed devices are left out)."""
    with transaction() as session:
        devices = queries.devices(session, targets.resolve(session, target))
        fed = [d.name for d in devices if d.role != DeviceRole.PDU and feeds_of(d)]
        plans = [pducycle.plan_cycle(session, name) for name in fed]
    others = [d.name for d in devices if d.name not in fed]
    if others:
        output.note(f"left out {len(others)} device(s) no switched outlet feeds (or PDUs): {targets.fold(others)}")
    if not plans:
        raise NotFound(f"no switched PDU outlet feeds anything in '{target}'")
    return plans


def cycle_via_pdu(
    target: str,
    force: bool,
    off_s: float,
    wait: float,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    options: fanout.Options,
) -> None:
    """Cycle every node of `target` at its PDU outlets, one node after the other."""
    plans = _cycle_plans(target)
    for plan in plans:
        outlets = ", ".join(f"{f.label} ({'+'.join(f.psus)})" for f in plan.feeds)
        shared = "; ".join(f"{label} also feeds {', '.join(o)}" for label, o in plan.shared.items())
        (output.line if dry_run else output.note)(
            f"{plan.node}: outlets {outlets}" + (f" - shared: {shared}" if shared else "")
        )
    if dry_run:
        raise typer.Exit(0)
    if not force:
        for plan in plans:
            pducycle.refuse_shared(plan)
    others = sorted({d for plan in plans for d in plan.others()})
    names = [plan.node for plan in plans]
    # --force with shared outlets always asks: it switches devices nobody named.
    if len(names) > state().settings.confirm_over or others:
        also = f", also switching off {', '.join(others)} (on shared outlets)" if others else ""
        confirm(f"power cycle {len(names)} node(s) at their PDU outlets ({targets.fold(names)}){also}?", yes)
    results: list[fanout.Result[Any]] = []
    with interruptible() as stop:
        for plan in plans:
            if stop:
                idle = NotStarted(f"not started: interrupted ({stop.reason}) before its turn")
                results += [fanout.Result(name, error=idle, attempts=0) for name in [plan.node, *plan.labels]]
                continue
            try:
                outcome = pducycle.cycle_via_pdu(state().database(), actor(), plan.node, options, off_s, wait, force)
            except RackctlError as exc:  # e.g. its BMC's or a PDU's credential cannot be read: this node only
                results.append(fanout.Result(plan.node, error=exc, attempts=0))
                continue
            results += outcome.results
    report("Power cycle via PDU", results, as_json)


def sequenced(
    target: str, run: restore.RunOptions, dry_run: bool, as_json: bool, options: fanout.Options, restoring: bool
) -> None:
    """Print the wave plan; unless --dry-run, power on wave by wave."""
    database = state().database()
    plan = restore.plan_only(database, target, run.max_per_wave)
    if dry_run and as_json:
        output.emit_json({"waves": restore.plan_rows(plan), "blocked": [list(b) for b in plan.blocked]})
        raise typer.Exit(0)
    for line in restore.describe_plan(plan):
        (output.note if as_json else output.line)(line)  # a plan goes to stdout, unless JSON results follow
    if dry_run:
        raise typer.Exit(0 if not plan.blocked else 1)
    with interruptible():
        outcome = restore.power_on_sequenced(database, actor(), target, run, options, restoring)
    report("Power restore" if restoring else "Power on (sequenced)", outcome.results, as_json)
