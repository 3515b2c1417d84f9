"""Power through the PDUs: `power cycle --via pdu`, `power on --sequence`, `power restore`."""

from __future__ import annotations

import typer

from rackctl import fanout, targets
from rackctl.cli import output
from rackctl.cli.common import actor, confirm, state, transaction
from rackctl.cli.fanout_view import report
from rackctl.services import pducycle, restore


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
    with transaction() as session:
        names = targets.resolve(session, target)
        plans = [pducycle.plan_cycle(session, name) for name in names]
    for plan in plans:
        outlets = ", ".join(f"{f.label} ({'+'.join(f.psus)})" for f in plan.feeds)
        shared = "; ".join(f"{label} also feeds {', '.join(o)}" for label, o in plan.shared.items())
        output.note(f"{plan.node}: outlets {outlets}" + (f" - shared: {shared}" if shared else ""))
    if dry_run:
        raise typer.Exit(0)
    if not force:
        for plan in plans:
            pducycle.refuse_shared(plan)
    if len(names) > state().settings.confirm_over:
        confirm(f"power cycle {len(names)} nodes at their PDU outlets ({targets.fold(names)})?", yes)
    results = []
    for plan in plans:
        outcome = pducycle.cycle_via_pdu(state().database(), actor(), plan.node, options, off_s, wait, force)
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
        output.note(line)
    if dry_run:
        raise typer.Exit(0 if not plan.blocked else 1)
    outcome = restore.power_on_sequenced(database, actor(), target, run, options, restoring)
    report("Power restore" if restoring else "Power on (sequenced)", outcome.results, as_json)
