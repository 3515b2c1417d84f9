"""Power-cycle a node at its PDU outlets: what remote hands do to a node whose BMC hangs.

Every switched outlet feeding the node (A and B side) goes off, stays off a while, and comes back
on; then the node's BMC must answer again and the node be on - unless the BMC answered before the
cycle and said the node was off: a cycle never powers on a node that was off. Outlets that also feed
another device are refused unless forced (then those devices are leased and named in the confirmation).

Whatever happens once the first outlet was commanded off - a PDU that times out or fails, a BMC that
keeps answering, SIGINT/SIGTERM during the off time - EVERY outlet of the plan is switched back on and
read back, and the node's result says which outlets could not be confirmed on. Every cycle is logged
(intent first) with the node's result and one result per outlet.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import Busy, CommandError, Conflict, NotFound, RackctlError, Timeout, Unknown
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import feeds as feeds_module
from rackctl.services import journal, leases, pdu, power
from rackctl.services.bmc import BmcTarget, Outcome, load_targets, reachable, with_driver
from rackctl.services.feeds import Feed
from rackctl.services.oob import Done
from rackctl.types import PowerAction, PowerState

DARK_S = 15.0  # how long a BMC may keep answering once its last outlet is off (capacitors, PSU hold-up)
BEFORE_S = 3.0  # how long to ask the BMC for the power state before the cycle (a hung one says nothing)
RESTORE_TRIES = 3  # a feed left off is worse than a slow command: outlets not confirmed on are tried again


@dataclass(frozen=True)
class CyclePlan:
    """A node, the outlets feeding it, and which of them also feed other devices."""

    node: str
    feeds: list[Feed]
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)  # outlet label -> other devices
    jobs: list[pdu.Job] = field(default_factory=list)  # filled by `with_endpoints`
    bmc: BmcTarget | None = None

    @property
    def labels(self) -> list[str]:
        return [f.label for f in self.feeds]

    def others(self) -> list[str]:
        """Every other device these outlets power."""
        return sorted({d for devices in self.shared.values() for d in devices})


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


def wait_for_bmc(target: BmcTarget, seconds: float, stop: fanout.Stop | None = None) -> float:
    """Wait until the BMC answers again; returns how long it took."""
    started = time.monotonic()
    while target.name not in reachable([target], timeout=1.0):
        if time.monotonic() - started > seconds or (stop is not None and stop):
            raise Timeout(
                f"the BMC of {target.name} did not answer within {time.monotonic() - started:.0f}s of power returning"
            )
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


def state_before(target: BmcTarget | None) -> PowerState:
    """The node's power state as its BMC tells it before the cycle; UNKNOWN when it does not (hung)."""
    # Only a BMC that answers a ping is asked: a session to a hung one would stay stuck in the IPMI
    # library and spoil the session that confirms the node after the cycle.
    if target is None or target.name not in reachable([target], timeout=1.0):
        return PowerState.UNKNOWN
    read = fanout.run_one(with_driver(power.status), target, target.name, fanout.Options(timeout=BEFORE_S, retries=0))
    return read.value.before if read.ok and read.value is not None else PowerState.UNKNOWN


def confirm_on(target: BmcTarget, seconds: float, before: PowerState, stop: fanout.Stop | None) -> tuple[float, str]:
    """The BMC answers and the node is as before: on (switched on through the BMC if it came back off),
    or left off when it was off before the cycle."""
    booted = wait_for_bmc(target, seconds, stop)
    if before == PowerState.OFF:
        return booted, "left off, as it was before the cycle"
    result = with_driver(power.action(PowerAction.ON, seconds))(target)
    return booted, result.message


def _outlet_results(plan: CyclePlan, off: list[Any], on: list[Any]) -> list[fanout.Result[Any]]:
    by_label = {r.target: r for r in off}
    out = []
    for result in on:
        first = by_label.get(result.target)
        if first is not None and not first.ok:
            out.append(first)
        elif result.ok:
            out.append(replace(result, value=Done(f"off, then on: cycled for {plan.node}", {"node": plan.node})))
        else:
            out.append(result)
    return out


def restore_all(plan: CyclePlan, options: fanout.Options) -> tuple[list[fanout.Result[Any]], str]:
    """Every outlet of the plan back on and read back, whatever state it was reported in (a timed-out
    job's outlets are unknown); returns the results and, if any is not confirmed on, which."""
    calm = replace(options, stop=None)  # switching back on must happen even after a stop
    on = pdu.switch_jobs(plan.jobs, PowerAction.ON, calm, 10.0)
    for _ in range(RESTORE_TRIES - 1):
        missing = {r.target for r in on if not r.ok}
        if not missing:
            break
        jobs = [replace(j, numbers=tuple(n for n in j.numbers if f"{j.target.name}:{n}" in missing)) for j in plan.jobs]
        again = {r.target: r for r in pdu.switch_jobs([j for j in jobs if j.numbers], PowerAction.ON, calm, 10.0)}
        on = [again.get(r.target, r) for r in on]
    bad = [f"{r.target} ({r.message})" for r in on if not r.ok]
    return on, ("; OUTLETS NOT CONFIRMED ON: " + ", ".join(bad)) if bad else "; outlets back on"


def _undo(plan: CyclePlan, off: list[Any], options: fanout.Options, why: str) -> list[fanout.Result[Any]]:
    on, back = restore_all(plan, options)
    node: fanout.Result[Any] = fanout.Result(plan.node, error=CommandError(f"not cycled: {why}{back}"))
    return [node, *_outlet_results(plan, off, on)]


def cycle(plan: CyclePlan, options: fanout.Options, off_s: float, wait_s: float) -> list[fanout.Result[Any]]:
    """Outlets off, wait, on, BMC back: the node's result first, then one per outlet."""
    started, stop = time.monotonic(), options.stop
    before = state_before(plan.bmc)
    off = pdu.switch_jobs(plan.jobs, PowerAction.OFF, options, 10.0)
    if not all(r.ok for r in off):
        return _undo(plan, off, options, ", ".join(f"{r.target} ({r.message})" for r in off if not r.ok))
    if plan.bmc is not None and not wait_until_dark(plan.bmc, DARK_S):
        labels = ", ".join(plan.labels)
        return _undo(
            plan,
            off,
            options,
            f"its BMC still answers with {labels} off: a PSU is fed from an outlet the inventory lacks",
        )
    if stop is not None:
        stop.requested.wait(off_s)  # SIGINT/SIGTERM during the off time: straight back on
    else:
        time.sleep(off_s)
    on, back = restore_all(plan, options)
    outlets = _outlet_results(plan, off, on)
    detail = {
        "outlets": plan.labels,
        "shared": {k: list(v) for k, v in plan.shared.items()},
        "off_s": off_s,
        "before": before.value,
    }
    if not all(r.ok for r in on):
        return [fanout.Result(plan.node, error=CommandError(f"cycled, but{back.removeprefix(';')}")), *outlets]
    if stop:
        why = f"unknown: interrupted ({stop.reason}) during the off time{back}; the node was not checked"
        return [fanout.Result(plan.node, error=Unknown(why)), *outlets]
    where = f"cycled at {', '.join(plan.labels)}"
    if plan.bmc is None:
        return [fanout.Result(plan.node, Done(f"{where} (no BMC to confirm)", detail)), *outlets]
    try:
        booted, state = confirm_on(plan.bmc, wait_s, before, stop)
    except RackctlError as exc:
        return [fanout.Result(plan.node, error=exc, seconds=time.monotonic() - started), *outlets]
    message = f"{where}; BMC answered after {booted:.1f}s; {state}"
    node = fanout.Result(
        plan.node, Done(message, detail | {"bmc_s": round(booted, 1)}), seconds=time.monotonic() - started
    )
    return [node, *outlets]


def lease_subjects(plan: CyclePlan) -> list[str]:
    """What a cycle holds: the node, its outlets, and every other device those outlets power."""
    return [plan.node, *plan.labels, *plan.others()]


def cycle_via_pdu(
    db: Database, actor: str, node: str, options: fanout.Options, off_s: float, wait_s: float, force: bool = False
) -> Outcome:
    """Cycle a node at its PDU outlets (refusing shared outlets unless forced), leased and logged."""
    with db.transaction() as session:
        plan = plan_cycle(session, node)
        if not force:
            refuse_shared(plan)
        plan = with_endpoints(session, plan)
    command = f"power cycle {node} --via pdu" + (" --force" if force else "")
    with (
        leases.held(db, lease_subjects(plan), "cycled at its PDU", actor) as lease,
        journal.opened(db, actor, command, [node, *plan.labels]) as log,
    ):
        if lease.refused:  # all or nothing: half a node's feeds cycled is no cycle
            busy = Busy("not cycled: " + "; ".join(lease.refused.values()))
            results: list[fanout.Result[Any]] = [fanout.Result(s, error=busy, attempts=0) for s in [node, *plan.labels]]
        else:
            results = cycle(plan, options, off_s, wait_s)
        log.finish(results, interrupted=options.stop.reason if options.stop else "")
    return Outcome(command, results)
