"""Check that a node's PDU outlets really feed the power supplies the inventory says they do.

One outlet at a time: switch it off, watch the node's BMC until a PSU reports its input lost, check
the node stayed up, switch the outlet back on and wait for the input to return. Exactly the PSUs
the inventory puts on that outlet must have lost input; anything else is reported as wiring, e.g.
"PSU2 of gpu-r12-u03 is on pdu-r12-b1 outlet 26, inventory says outlet 25". Refuses to start (or
to go on) while any PSU not on the outlet under test lacks input: that would be the node's last feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from rackctl import fanout
from rackctl.errors import Busy, CommandError, Conflict, NotFound, RackctlError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import feeds as feeds_module
from rackctl.services import journal, leases, oob, pdu, power
from rackctl.services.bmc import BmcTarget, Outcome, driver_for, load_targets
from rackctl.services.feeds import Feed
from rackctl.services.oob import Done
from rackctl.services.pducycle import jobs_for
from rackctl.types import PowerAction, PowerState

POLL_S = 0.5
READ_S = 30.0


@dataclass(frozen=True)
class NodeView:
    """What the BMC says: which PSUs have input, and the chassis power state."""

    inputs: dict[str, bool]
    power: PowerState

    def without_input(self) -> set[str]:
        return {psu for psu, ok in self.inputs.items() if not ok}


@dataclass(frozen=True)
class VerifyPlan:
    node: str
    bmc: BmcTarget
    feeds: list[Feed]
    jobs: dict[str, pdu.Job] = field(default_factory=dict)  # outlet label -> a one-outlet PDU job


def plan_verify(db: Database, node: str) -> VerifyPlan:
    with db.transaction() as session:
        device = queries.device(session, node)
        feeds = feeds_module.feeds_of(device)
        bmcs, refused, _ = load_targets(session, [node])
        if refused:
            raise refused[0].error  # type: ignore[misc]
        if not bmcs:
            raise NotFound(f"{node} has no BMC to watch its power supplies through")
        if not feeds:
            raise NotFound(f"no switched PDU outlet feeds {node}")
        jobs = {f.label: jobs_for(session, [(f.pdu, f.outlet)])[0] for f in feeds}
    return VerifyPlan(node, bmcs[0], feeds, jobs)


def _inputs(readings: list[Any]) -> dict[str, bool]:
    # NOTE(IPMI PSU status sensors): "Power Supply input lost" / "input out-of-range" states; the
    # sensor is named after the PSU ("PSU2 Status"), as the inventory names its power ports.
    return {
        r.name.split()[0]: "input lost" not in r.state.lower() and "out-of-range" not in r.state.lower()
        for r in readings
        if r.kind == "psu"
    }


class Watcher:
    """One BMC session for the whole check (a new session reads the sensor repository again)."""

    def __init__(self, target: BmcTarget, options: fanout.Options) -> None:
        self.target = target
        self.options = options
        # The first read fetches the whole sensor repository; a busy BMC needs longer than for one command.
        self.read_options = replace(options, timeout=max(options.timeout, READ_S), retries=0)
        self.bmc: Any = None

    def __enter__(self) -> Watcher:
        self.bmc = driver_for(self.target).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bmc.__exit__(None, None, None)

    def look(self) -> NodeView:
        """The node's PSU inputs and power state, within the fan-out's deadline."""

        def read(bmc: Any) -> NodeView:
            return NodeView(_inputs(oob.read_sensors(bmc)), power.status(bmc).before)

        result = fanout.run_one(read, self.bmc, self.target.name, self.read_options)
        if not result.ok or result.value is None:
            raise CommandError(f"cannot read {self.target.name} through its BMC: {result.message}")
        return result.value

    def until(self, done: Callable[[NodeView], bool], seconds: float) -> NodeView:
        deadline = time.monotonic() + seconds
        view = self.look()
        while not done(view) and time.monotonic() < deadline:
            time.sleep(POLL_S)
            view = self.look()
        return view


def mismatches(plan: VerifyPlan, feed: Feed, lost: set[str]) -> list[str]:
    """What switching `feed` off showed that the inventory does not say, in words."""
    inventory = {psu: f for f in plan.feeds for psu in f.psus}
    lines = []
    for psu in sorted(lost - set(feed.psus)):
        said = inventory.get(psu)
        where = "nowhere" if said is None else (f"outlet {said.outlet}" if said.pdu == feed.pdu else said.label)
        lines.append(f"{psu} of {plan.node} is on {feed.pdu} outlet {feed.outlet}, inventory says {where}")
    if not lost:
        lines.append(f"{feed.label} feeds no PSU of {plan.node}, inventory says {'+'.join(feed.psus)}")
    return lines


def _switch(plan: VerifyPlan, feed: Feed, action: PowerAction, options: fanout.Options) -> None:
    result = pdu.switch_jobs([plan.jobs[feed.label]], action, options, 10.0)[0]
    if not result.ok:
        raise CommandError(f"{feed.label} did not switch {action.value}: {result.message}")


def check_outlet(plan: VerifyPlan, feed: Feed, watcher: Watcher, before: NodeView, settle_s: float) -> list[str]:
    """Switch one outlet off and on again; returns the wiring it contradicts (empty: as inventoried)."""
    options = watcher.options
    _switch(plan, feed, PowerAction.OFF, options)
    try:
        view = watcher.until(lambda v: bool(v.without_input() - before.without_input()), settle_s)
        if view.power != before.power:
            raise CommandError(f"{plan.node} went {view.power.value} with {feed.label} off: stopped")
    finally:
        _switch(plan, feed, PowerAction.ON, options)
    back = watcher.until(lambda v: not v.without_input(), settle_s)
    if back.without_input():
        raise CommandError(f"{', '.join(sorted(back.without_input()))} did not get input back after {feed.label} on")
    return mismatches(plan, feed, view.without_input())


def refuse_unhealthy(plan: VerifyPlan, view: NodeView, feed: Feed | None = None) -> None:
    """No PSU may be without input before an outlet goes off: the node would hang on its last feed."""
    missing = view.without_input()
    if missing:
        which = f" before switching {feed.label} off" if feed else ""
        raise Conflict(
            f"refusing to verify {plan.node}: {', '.join(sorted(missing))} has no input{which}; "
            "its other feed is not healthy",
            hint="restore that feed first (rackctl pdu status, then pdu on)",
        )


def verify(db: Database, actor: str, node: str, options: fanout.Options, settle_s: float = 15.0) -> Outcome:
    """Verify every outlet feeding the node; leased, logged (intent first), a result per outlet and the node."""
    plan = plan_verify(db, node)
    outcome = Outcome(f"pdu verify-feeds {node}")
    labels = [f.label for f in plan.feeds]
    with leases.held(db, [node, *labels], "checked feed by feed", actor) as lease:
        if lease.refused:
            raise Busy("; ".join(lease.refused.values()))
        with Watcher(plan.bmc, options) as watcher:
            refuse_unhealthy(plan, watcher.look())  # before the intent: a refusal touches nothing
            with journal.opened(db, actor, outcome.command, [node, *labels]) as log:
                found, stopped = _check_all(plan, watcher, settle_s, outcome)
                outcome.results.insert(0, _summary(plan, found, stopped))
                log.finish(outcome.results)
    return outcome


def _check_all(plan: VerifyPlan, watcher: Watcher, settle_s: float, outcome: Outcome) -> tuple[list[str], str]:
    """Every outlet in turn, until one cannot be checked safely; (mismatches, why it stopped)."""
    found: list[str] = []
    for feed in plan.feeds:
        try:
            before = watcher.look()
            refuse_unhealthy(plan, before, feed)
            lines = check_outlet(plan, feed, watcher, before, settle_s)
        except RackctlError as exc:
            outcome.results.append(fanout.Result(feed.label, error=exc))
            return found, f"stopped at {feed.label}: {exc}"
        found += lines
        value = Done("as inventoried: " + "+".join(feed.psus), {"psus": list(feed.psus)})
        error = CommandError("; ".join(lines)) if lines else None
        outcome.results.append(fanout.Result(feed.label, None if error else value, error=error))
    return found, ""


def _summary(plan: VerifyPlan, found: list[str], stopped: str) -> fanout.Result[Any]:
    problems = found + ([stopped] if stopped else [])
    if problems:
        return fanout.Result(plan.node, error=CommandError("; ".join(problems)))
    detail = {"outlets": [f.label for f in plan.feeds]}
    return fanout.Result(plan.node, Done(f"all {len(plan.feeds)} outlets feed the PSUs the inventory says", detail))
