"""Power-cycle a node at its PDU outlets: what remote hands do to a node whose BMC hangs.

Every switched outlet feeding the node (A and B side) goes off, stays off a while, and comes back
on; then the node's BMC must answer again and the node be on (it is switched on through the BMC if
it came back off). Outlets that also feed another device are refused unless forced. Every cycle is
logged with the node's result and one result per outlet.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import CommandError, Conflict, NotFound, RackctlError, Timeout
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import feeds as feeds_module
from rackctl.services import pdu, power
from rackctl.services.bmc import BmcTarget, Outcome, load_targets, reachable, record, with_driver
from rackctl.services.feeds import Feed
from rackctl.services.oob import Done
from rackctl.types import PowerAction

DARK_S = 15.0  # how long a BMC may keep answering once its last outlet is off (capacitors, PSU hold-up)


@dataclass(frozen=True)
class CyclePlan:
    """A node, the outlets feeding it, and which of them also feed other devices."""

    node: str
    feeds: list[Feed]
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)  # outlet label -> other devices
    jobs: list[pdu.Job] = field(default_factory=list)  # filled by `with_endpoints`
    bmc: BmcTarget | None = None


def jobs_for(session: Session, outlets: Iterable[tuple[str, int]]) -> list[pdu.Job]:
    """One PDU job per PDU, with the (PDU name, outlet number) pairs on it."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for name, number in outlets:
        numbers[name].append(number)
    return [pdu.Job(pdu.target_of(queries.device(session, name)), tuple(n)) for name, n in numbers.items()]


def plan_cycle(session: Session, node: str) -> CyclePlan:
    """What a PDU cycle of `node` would switch (no secret needed); NotFound when no switched outlet feeds it."""
    feeds = feeds_module.feeds_of(queries.device(session, node))
    if not feeds:
        raise NotFound(f"no switched PDU outlet feeds {node}", hint="the inventory connects its PSUs to PDU outlets")
    return CyclePlan(node, feeds, {f.label: f.others for f in feeds if f.others})


def with_endpoints(session: Session, plan: CyclePlan) -> CyclePlan:
    """The plan with its PDUs' and BMC's endpoints, secrets resolved now."""
    bmcs, refused, _ = load_targets(session, [plan.node])
    if refused:
        raise refused[0].error  # type: ignore[misc]
    jobs = jobs_for(session, [(f.pdu, f.outlet) for f in plan.feeds])
    return replace(plan, jobs=jobs, bmc=bmcs[0] if bmcs else None)


def refuse_shared(plan: CyclePlan) -> None:
    if plan.shared:
        which = "; ".join(f"{label} also feeds {', '.join(others)}" for label, others in plan.shared.items())
        raise Conflict(f"refusing to cycle {plan.node} at the PDU: {which}", hint="--force cycles them anyway")


def wait_for_bmc(target: BmcTarget, seconds: float) -> float:
    """Wait until the BMC answers again; returns how long it took."""
    started = time.monotonic()
    while target.name not in reachable([target], timeout=1.0):
        if time.monotonic() - started > seconds:
            raise Timeout(f"the BMC of {target.name} did not answer within {seconds:g}s of power returning")
        time.sleep(0.5)
    return time.monotonic() - started


def wait_until_dark(target: BmcTarget, seconds: float) -> bool:
    """Whether the BMC stopped answering (its standby power is gone) within `seconds`."""
    deadline = time.monotonic() + seconds
    while target.name in reachable([target], timeout=0.5):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def confirm_on(target: BmcTarget, seconds: float) -> tuple[float, str]:
    """The BMC answers and the node is on (switched on through the BMC if it came back off)."""
    booted = wait_for_bmc(target, seconds)
    result = with_driver(power.action(PowerAction.ON, seconds))(target)
    return booted, result.message


def _outlet_results(plan: CyclePlan, off: list[Any], on: list[Any]) -> list[fanout.Result[Any]]:
    by_label = {r.target: r for r in off}
    out = []
    for result in on:
        first = by_label.get(result.target)
        if first is not None and not first.ok:
            out.append(first)
            continue
        out.append(replace(result, value=Done(f"off, then on: cycled for {plan.node}", {"node": plan.node})))
    return out


def _switch_back_on(plan: CyclePlan, off: list[Any], options: fanout.Options) -> None:
    """Undo a half-done cycle: whatever went off comes back on."""
    went_off = {r.target for r in off if r.ok}
    jobs = [replace(j, numbers=tuple(n for n in j.numbers if f"{j.target.name}:{n}" in went_off)) for j in plan.jobs]
    pdu.switch_jobs([j for j in jobs if j.numbers], PowerAction.ON, options, 10.0)


def cycle(plan: CyclePlan, options: fanout.Options, off_s: float, wait_s: float) -> list[fanout.Result[Any]]:
    """Outlets off, wait, on, BMC back: the node's result first, then one per outlet."""
    started = time.monotonic()
    labels = [f.label for f in plan.feeds]
    off = pdu.switch_jobs(plan.jobs, PowerAction.OFF, options, 10.0)
    if not all(r.ok for r in off):
        _switch_back_on(plan, off, options)
        bad = ", ".join(f"{r.target} ({r.message})" for r in off if not r.ok)
        node: fanout.Result[Any] = fanout.Result(plan.node, error=CommandError(f"not cycled: {bad}; outlets back on"))
        return [node, *off]
    if plan.bmc is not None and not wait_until_dark(plan.bmc, DARK_S):
        _switch_back_on(plan, off, options)
        why = f"its BMC still answers with {', '.join(labels)} off: a PSU is fed from an outlet the inventory lacks"
        return [fanout.Result(plan.node, error=CommandError(f"not cycled: {why}; outlets back on")), *off]
    time.sleep(off_s)
    on = pdu.switch_jobs(plan.jobs, PowerAction.ON, options, 10.0)
    outlets = _outlet_results(plan, off, on)
    detail = {"outlets": labels, "shared": {k: list(v) for k, v in plan.shared.items()}, "off_s": off_s}
    if not all(r.ok for r in on):
        bad = ", ".join(r.target for r in on if not r.ok)
        return [fanout.Result(plan.node, error=CommandError(f"outlets {bad} did not come back on")), *outlets]
    if plan.bmc is None:
        return [fanout.Result(plan.node, Done(f"cycled at {', '.join(labels)} (no BMC to confirm)", detail)), *outlets]
    try:
        booted, state = confirm_on(plan.bmc, wait_s)
    except RackctlError as exc:
        return [fanout.Result(plan.node, error=exc, seconds=time.monotonic() - started), *outlets]
    message = f"cycled at {', '.join(labels)}; BMC answered after {booted:.1f}s; {state}"
    node = fanout.Result(
        plan.node, Done(message, detail | {"bmc_s": round(booted, 1)}), seconds=time.monotonic() - started
    )
    return [node, *outlets]


def cycle_via_pdu(
    db: Database, actor: str, node: str, options: fanout.Options, off_s: float, wait_s: float, force: bool = False
) -> Outcome:
    """Cycle a node at its PDU outlets (refusing shared outlets unless forced) and log it."""
    with db.transaction() as session:
        plan = plan_cycle(session, node)
        if not force:
            refuse_shared(plan)
        plan = with_endpoints(session, plan)
    outcome = Outcome(f"power cycle {node} --via pdu" + (" --force" if force else ""))
    outcome.results = cycle(plan, options, off_s, wait_s)
    record(db, actor, outcome)
    return outcome
