"""Power devices on wave by wave (`power on --sequence`, `power restore`), watching the PDUs' load.

Before each wave the PDUs it draws from are read: a wave starts only when every PDU's (and every
feed's) measured load plus the wave's inrush stays within the usable capacity; otherwise it is held
back (re-read every few seconds up to `hold_s`) and, if the headroom never comes, it and every later
wave are not powered. A wave switches its devices' outlets on at the PDUs (gear without a BMC is
then simply on), waits for the BMCs to answer and powers the nodes on through them. One logged
result per device.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl import targets as targets_module
from rackctl.errors import CommandError, NotStarted, RackctlError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import journal, leases, pdu, power, sequence
from rackctl.services.bmc import BmcTarget, Outcome, execute, load_targets, with_driver
from rackctl.services.feeds import upstream
from rackctl.services.oob import Done
from rackctl.services.pducycle import jobs_for, wait_for_bmc
from rackctl.services.sequence import SequencePlan, Wave
from rackctl.types import DeviceRole, PowerAction


@dataclass(frozen=True)
class RunOptions:
    max_per_wave: int = 4
    settle_s: float = 5.0  # pause after a wave before measuring for the next
    hold_s: float = 60.0  # how long a wave may wait for headroom
    wait_s: float = 300.0  # how long a BMC may take to answer once its outlets are on
    reserve: float = 0.0  # share of each usable capacity kept free on top of the plan


@dataclass
class Prepared:
    """Everything a run needs, read from the inventory in one transaction."""

    plan: SequencePlan
    pdus: dict[str, pdu.PduTarget]
    bmcs: dict[str, BmcTarget]
    jobs: dict[str, list[pdu.Job]]  # device -> the outlets feeding it
    refused: list[fanout.Result[Any]]


def plan_for(session: Session, expression: str, max_per_wave: int) -> tuple[list[Any], SequencePlan]:
    """The devices to power (PDUs are the power, not a load) and their waves; needs no secret."""
    named = queries.devices(session, targets_module.resolve(session, expression))
    devices = [d for d in named if d.role != DeviceRole.PDU]
    loads, limits, others = sequence.loads_for(session, devices)
    return devices, sequence.plan_waves(loads, limits, others, max_per_wave)


def prepare(session: Session, expression: str, max_per_wave: int) -> Prepared:
    """Plan the waves and load every endpoint the run will talk to."""
    devices, plan = plan_for(session, expression, max_per_wave)
    bmcs, refused, _ = load_targets(session, [d.name for d in devices])
    feeds = {d.name: sorted({(o.pdu.name, o.number) for p in d.power_ports for o in upstream(p)}) for d in devices}
    jobs = {name: jobs_for(session, pairs) for name, pairs in feeds.items() if pairs}
    pdus = {j.target.name: j.target for js in jobs.values() for j in js}
    return Prepared(plan, pdus, {b.name: b for b in bmcs}, jobs, refused)


def measured_loads(prepared: Prepared, names: Sequence[str], options: fanout.Options) -> dict[str, Any]:
    """Each PDU's measured load in watts, or the reason it could not be read."""
    targets = [prepared.pdus[name] for name in names if name in prepared.pdus]
    read = fanout.run(pdu.read_meters, targets, [t.name for t in targets], options)
    return {r.target: (r.value.readings.load_w if r.value else None) if r.ok else r.message for r in read}


def headroom_problems(prepared: Prepared, wave: Wave, reserve: float, options: fanout.Options) -> list[str]:
    """Why the wave may not start now: PDUs (or feeds) whose measured load leaves too little room."""
    need = prepared.plan.pdu_watts(wave)
    limits = prepared.plan.limits
    problems: list[str] = []
    by_feed: dict[str, float] = defaultdict(float)
    for name, measured in measured_loads(prepared, list(prepared.pdus), options).items():
        if isinstance(measured, str):
            problems += [f"{name} cannot be read ({measured})"] if name in need else []
            continue
        usable = limits.get(f"PDU {name}", float("inf")) * (1 - reserve)
        if measured is not None and measured + need.get(name, 0.0) > usable:
            problems.append(
                f"{name} measures {measured / 1000:.1f} kW; wave {wave.number} needs "
                f"{need.get(name, 0.0) / 1000:.1f} kW more of {usable / 1000:.1f} kW usable"
            )
        by_feed[_feed_of(prepared, name)] += (measured or 0.0) + need.get(name, 0.0)
    for feed, watts in by_feed.items():
        usable = limits.get(f"feed {feed}", float("inf")) * (1 - reserve)
        if watts > usable:
            problems.append(f"feed {feed} would carry {watts / 1000:.1f} of {usable / 1000:.1f} kW")
    return problems


def _feed_of(prepared: Prepared, pdu_name: str) -> str:
    for load in prepared.plan.loads.values():
        for port in load.ports:
            if port.pdu == pdu_name:
                return port.feed
    return ""


def wait_for_headroom(prepared: Prepared, wave: Wave, run: RunOptions, options: fanout.Options) -> list[str]:
    """Hold the wave until the PDUs have room for it; returns the problems if they never do."""
    deadline = time.monotonic() + run.hold_s
    while True:
        problems = headroom_problems(prepared, wave, run.reserve, options)
        if not problems or time.monotonic() >= deadline or _pause(options, min(5.0, max(0.5, run.hold_s / 10))):
            return problems


def _pause(options: fanout.Options, seconds: float) -> bool:
    """Sleep, cut short by a stop (SIGINT/SIGTERM); whether one came."""
    if options.stop is None:
        time.sleep(seconds)
        return False
    return options.stop.requested.wait(seconds)


def _outlets_on(prepared: Prepared, wave: Wave, options: fanout.Options) -> dict[str, str]:
    """Switch on every outlet feeding the wave; returns device -> why that failed."""
    jobs: dict[str, pdu.Job] = {}
    for name in wave.devices:
        for job in prepared.jobs.get(name, []):
            known = jobs.get(job.target.name)
            numbers = tuple(sorted(set(job.numbers) | set(known.numbers if known else ())))
            jobs[job.target.name] = pdu.Job(job.target, numbers)
    failed = {
        r.target: r.message for r in pdu.switch_jobs(list(jobs.values()), PowerAction.ON, options, 10.0) if not r.ok
    }
    problems = {}
    for name in wave.devices:
        bad = [
            f"{label}: {failed[label]}"
            for job in prepared.jobs.get(name, [])
            for label in job.labels()
            if label in failed
        ]
        if bad:
            problems[name] = "outlets not on: " + "; ".join(bad)
    return problems


def _bmc_on(target: BmcTarget, wait_s: float) -> Done:
    booted = wait_for_bmc(target, wait_s)
    result = with_driver(power.action(PowerAction.ON, wait_s))(target)
    return Done(f"{result.message} (BMC answered after {booted:.1f}s)", {"power": "on"})


def power_wave(prepared: Prepared, wave: Wave, run: RunOptions, options: fanout.Options) -> list[fanout.Result[Any]]:
    """Outlets on, then each node on through its BMC; one result per device of the wave."""
    outlet_problems = _outlets_on(prepared, wave, options)
    bmc_targets = [prepared.bmcs[n] for n in wave.devices if n in prepared.bmcs and n not in outlet_problems]
    bmc_options = replace(options, timeout=run.wait_s * 2 + options.timeout, retries=0, progress=None)
    done = execute("power on", bmc_targets, lambda t: _bmc_on(t, run.wait_s), bmc_options, precheck=False)
    by_name = {r.target: r for r in done.results}
    results: list[fanout.Result[Any]] = []
    for name in wave.devices:
        if name in outlet_problems:
            results.append(fanout.Result(name, error=CommandError(outlet_problems[name])))
        elif name in by_name:
            results.append(by_name[name])
        elif name in prepared.jobs:
            results.append(fanout.Result(name, Done("outlets on (no BMC)", {"power": "on"})))
        else:
            results.append(fanout.Result(name, error=CommandError("no BMC and no switched outlet: cannot power it")))
    return [_with_wave(r, wave) for r in results]


def _with_wave(result: fanout.Result[Any], wave: Wave) -> fanout.Result[Any]:
    if not result.ok or result.value is None:
        return result
    detail = dict(getattr(result.value, "detail", {}) or {}) | {"wave": wave.number}
    return fanout.Result(result.target, Done(f"wave {wave.number}: {result.value}", detail), attempts=result.attempts)


def run_plan(
    prepared: Prepared,
    run: RunOptions,
    options: fanout.Options,
    note: Callable[[fanout.Result[Any]], None] | None = None,
) -> list[fanout.Result[Any]]:
    """Every wave in turn; a wave without headroom stops the run, and later waves are not powered.
    `note` gets each device's result as its wave ends (the operation log's journal)."""
    results: list[fanout.Result[Any]] = [*prepared.refused]
    results += [fanout.Result(d, error=CommandError(f"not powered: {why}")) for d, why in prepared.plan.blocked]
    skipped = {r.target for r in prepared.refused}
    waves = prepared.plan.waves
    for index, wave in enumerate(waves):
        problems = [] if options.stop else wait_for_headroom(prepared, wave, run, options)
        if problems or options.stop:
            results += _held_back(waves[index:], skipped, problems, options)
            break
        done = [r for r in power_wave(prepared, wave, run, options) if r.target not in skipped]
        if note is not None:
            for result in done:
                note(result)
        results += done
        if index + 1 < len(waves):
            _pause(options, run.settle_s)
    return results


def _held_back(
    waves: Sequence[Wave], skipped: set[str], problems: list[str], options: fanout.Options
) -> list[fanout.Result[Any]]:
    """Results for the waves that will not be powered: no headroom, or the run was stopped."""
    if problems:
        error: RackctlError = CommandError(f"held back before wave {waves[0].number}: " + "; ".join(problems))
    else:
        reason = options.stop.reason if options.stop else ""
        error = NotStarted(f"not started: interrupted ({reason}) before wave {waves[0].number}")
    return [fanout.Result(d, error=error, attempts=0) for w in waves for d in w.devices if d not in skipped]


def plan_only(db: Database, expression: str, max_per_wave: int) -> SequencePlan:
    with db.transaction() as session:
        return plan_for(session, expression, max_per_wave)[1]


def power_on_sequenced(
    db: Database, actor: str, expression: str, run: RunOptions, options: fanout.Options, restore: bool
) -> Outcome:
    """Plan, lease every device, log the intent, then power on wave by wave; a result per device."""
    with db.transaction() as session:
        prepared = prepare(session, expression, run.max_per_wave)
    command = f"power restore {expression}" if restore else f"power on --sequence {expression}"
    devices = list(prepared.plan.loads)
    doing = "restored" if restore else "powered on in sequence"
    with leases.held(db, devices, doing, actor) as lease, journal.opened(db, actor, command, devices) as log:
        prepared = without(prepared, lease)
        outcome = Outcome(command)
        try:
            outcome.results = run_plan(prepared, run, options, log.add)
        except RackctlError as exc:
            outcome.results = [fanout.Result(name, error=exc) for name in devices]
        order = {name: i for i, name in enumerate(devices)}
        outcome.results.sort(key=lambda r: order.get(r.target, -1))
        log.finish(outcome.results, interrupted=options.stop.reason if options.stop else "")
    return outcome


def without(prepared: Prepared, lease: leases.Held) -> Prepared:
    """The run minus devices another run holds: they get their refusal, and nothing of theirs is switched."""
    if not lease.refused:
        return prepared
    keep = [replace(w, devices=tuple(d for d in w.devices if d not in lease.refused)) for w in prepared.plan.waves]
    plan = replace(prepared.plan, waves=[w for w in keep if w.devices])
    jobs = {name: js for name, js in prepared.jobs.items() if name not in lease.refused}
    refused = [*prepared.refused, *(lease.refusal(name) for name in lease.refused)]
    return replace(prepared, plan=plan, jobs=jobs, refused=refused)


def describe_plan(plan: SequencePlan) -> list[str]:
    """The plan as lines for people."""
    lines = [
        f"wave {w.number} ({w.group}): {targets_module.fold(w.devices)} - inrush {w.inrush_w / 1000:.1f} kW; "
        f"peak {w.peak_point} {w.peak_w / 1000:.1f} of {w.peak_usable_w / 1000:.1f} kW usable"
        for w in plan.waves
    ]
    return lines + [f"not planned: {device}: {why}" for device, why in plan.blocked]


def plan_rows(plan: SequencePlan) -> Sequence[dict[str, Any]]:
    return [
        {
            "wave": w.number,
            "group": w.group,
            "devices": list(w.devices),
            "inrush_kw": round(w.inrush_w / 1000, 2),
            "peak_point": w.peak_point,
            "peak_kw": round(w.peak_w / 1000, 2),
            "usable_kw": round(w.peak_usable_w / 1000, 2),
        }
        for w in plan.waves
    ]
