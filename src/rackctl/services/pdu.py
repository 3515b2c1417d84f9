"""PDU outlets: status, on/off/cycle with one result per outlet, and readings.

What a spec names is planned in `pduplan` (inventory only); here the PDUs are talked to. Switching
reads each outlet first and switches only when needed; a PDU that does not answer, or refuses a command,
fails those outlets and nothing else. A PDU job that runs past its deadline is told to stop (it sends
nothing more), given LATE_S to end its request in flight, and its outlets are then read back: their
state is reported as read, never assumed. Endpoints are read in a short transaction, PDUs talked to
with none open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session, selectinload

from rackctl import fanout
from rackctl.drivers.base import OutletControl, OutletStatus, PduIdentity, PduMeter, PduReadings
from rackctl.drivers.registry import driver_class
from rackctl.errors import (
    CommandError,
    ConfigError,
    ConnectError,
    DriverError,
    NotStarted,
    Timeout,
    ValidationError,
)
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, PduOutlet, PowerPort
from rackctl.services import pduplan, power
from rackctl.services.bmc import Outcome, record, require
from rackctl.services.endpoints import management_endpoint, unresolvable
from rackctl.services.pduplan import parse_spec as parse_spec  # where callers looked for it before
from rackctl.types import Endpoint, MgmtProtocol, PowerAction, PowerState

POLL_S = 0.3
LATE_S = 10.0  # how long a PDU job past its deadline may take to end the request it has in flight
SWITCHING = (PowerAction.ON, PowerAction.OFF, PowerAction.CYCLE)


@dataclass(frozen=True)
class PduTarget:
    """A PDU, how to reach it (secrets resolved), and what the inventory says each outlet feeds."""

    name: str
    endpoint: Endpoint
    feeds: dict[int, str] = field(default_factory=dict)  # outlet -> "gpu-r12-u03 PSU1"
    outlets: tuple[int, ...] = ()  # the outlets the inventory knows


@dataclass(frozen=True)
class Job:
    """Outlets of one PDU to act on; no numbers (reads only): every outlet the PDU has."""

    target: PduTarget
    numbers: tuple[int, ...] = ()

    def labels(self) -> list[str]:
        """One label per outlet; the PDU's name alone while its outlets are unknown (a read of all)."""
        numbers = self.numbers or self.target.outlets
        return [f"{self.target.name}:{n}" for n in numbers] if numbers else [self.target.name]


@dataclass
class _Control:
    """Between a PDU job's worker and whoever waits for it: stop sending; which outlets were sent; done."""

    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    sent: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class OutletResult:
    """One outlet after a command (or a read)."""

    pdu: str
    outlet: int
    state: PowerState
    message: str
    name: str = ""
    feeds: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def pdu_endpoint(device: Device) -> Endpoint:
    """The PDU's SNMP agent as a driver value; its community (or SNMPv3 keys) resolved now."""
    mgmt = device.mgmt
    if mgmt is None or not mgmt.address:
        raise ConfigError(
            f"{device.name} has no SNMP address in the inventory", hint="rackctl device set --mgmt-address"
        )
    if mgmt.protocol != MgmtProtocol.SNMP:
        raise ConfigError(f"{device.name} is managed over {mgmt.protocol}, not SNMP")
    if not mgmt.credential_ref:
        raise ConfigError(f"{device.name} has no SNMP community or SNMPv3 key reference")
    endpoint = management_endpoint(device)
    assert endpoint is not None
    return endpoint


def target_of(device: Device) -> PduTarget:
    feeds = {o.number: f"{o.power_port.device.name} {o.power_port.name}" for o in device.outlets if o.power_port}
    return PduTarget(device.name, pdu_endpoint(device), feeds, tuple(o.number for o in device.outlets))


def load_jobs(session: Session, spec: str) -> list[Job]:
    """Jobs (secrets resolved) for reading what a spec names; checked like a switch would be."""
    return jobs_for_plan(session, pduplan.plan(session, spec))


def jobs_for_plan(session: Session, planned: Sequence[pduplan.PlannedPdu]) -> list[Job]:
    """Jobs (secrets resolved now) for planned PDUs."""
    # Every PDU's endpoint, outlets and what they feed in one query per relationship, not several per PDU.
    # Built here, not at import: a loader option sets up every mapper, which `--help` should not pay for.
    load = (
        selectinload(Device.mgmt),
        selectinload(Device.outlets).selectinload(PduOutlet.power_port).selectinload(PowerPort.device),
    )
    devices = queries.devices(session, [p.name for p in planned], *load)
    jobs = [Job(target_of(device), p.numbers) for device, p in zip(devices, planned, strict=True)]
    for protocol in {j.target.endpoint.protocol for j in jobs}:
        driver_class("rackctl.pdu", protocol)  # a missing extra: one line now, not one per outlet
    return jobs


def driver_for(target: PduTarget) -> Any:
    return driver_class("rackctl.pdu", target.endpoint.protocol)(target.endpoint)


def _result(job: Job, status: OutletStatus, message: str, detail: dict[str, Any] | None = None) -> OutletResult:
    feeds = job.target.feeds.get(status.number, "")
    base = {"pdu": job.target.name, "outlet": status.number, "feeds": feeds, "power": status.state.value}
    return OutletResult(
        job.target.name, status.number, status.state, message, status.name, feeds, base | (detail or {})
    )


def _failed(job: Job, number: int, error: BaseException) -> fanout.Result[OutletResult]:
    return fanout.Result(f"{job.target.name}:{number}", error=error)


def _read(job: Job) -> list[fanout.Result[OutletResult]]:
    with driver_for(job.target) as pdu:
        require(pdu, OutletControl)
        states = pdu.outlets(job.numbers or job.target.outlets or None)
    return [
        _failed(job, s.number, CommandError(s.problem))
        if s.problem
        else fanout.Result(f"{job.target.name}:{s.number}", _result(job, s, s.state.value))
        for s in states
    ]


def await_states(
    pdu: Any, expected: dict[int, PowerState], seconds: float, cancel: threading.Event | None = None
) -> dict[int, OutletStatus]:
    """Poll until the outlets read as expected, `seconds` pass or `cancel` is set; returns the last reading."""
    deadline = time.monotonic() + seconds
    while True:
        seen = {s.number: s for s in pdu.outlets(sorted(expected))}
        if all(seen[n].state == state for n, state in expected.items()) or time.monotonic() >= deadline:
            return seen
        if cancel is not None and cancel.wait(POLL_S):
            return seen
        if cancel is None:
            time.sleep(POLL_S)


def _send(job: Job, pdu: Any, status: OutletStatus, action: PowerAction, control: _Control) -> Any:
    """Command one outlet if it needs it: a finished result, or the plan step that was sent."""
    label = f"{job.target.name}:{status.number}"
    try:
        if status.problem:
            raise CommandError(status.problem)
        step = power.plan(action, status.state)
        if step.send is None:
            return fanout.Result(label, _result(job, status, step.message))
        control.sent.add(status.number)  # before sending: a request that times out may still land
        pdu.set_outlet(status.number, step.send)
        return step
    except Timeout:
        # No answer is not "not switched": the command may have taken effect. Read it back like the others.
        return step
    except DriverError as exc:
        return fanout.Result(label, error=exc)


def _switch(job: Job, action: PowerAction, wait_s: float, control: _Control) -> list[fanout.Result[OutletResult]]:
    """Switch one PDU's outlets; stops sending as soon as `control.cancel` is set (the caller gave up)."""
    try:
        with driver_for(job.target) as pdu:
            require(pdu, OutletControl)
            before = pdu.outlets(job.numbers or job.target.outlets or None)
            results: dict[int, fanout.Result[OutletResult]] = {}
            sent: dict[int, tuple[OutletStatus, Any]] = {}
            for status in before:
                if control.cancel.is_set():
                    break
                outcome = _send(job, pdu, status, action, control)
                if isinstance(outcome, fanout.Result):
                    results[status.number] = outcome
                else:
                    sent[status.number] = (status, outcome)
            results |= _confirm(job, pdu, sent, wait_s, control.cancel)
        late = Timeout("the PDU job was stopped before this outlet")
        return [results.get(s.number, _failed(job, s.number, late)) for s in before]
    finally:
        control.finished.set()


def _confirm(
    job: Job, pdu: Any, sent: dict[int, tuple[OutletStatus, Any]], wait_s: float, cancel: threading.Event
) -> dict[int, fanout.Result[OutletResult]]:
    """Read the switched outlets back until they are as commanded (a cycle: back on)."""
    if not sent:
        return {}
    if any(step.send == PowerAction.CYCLE for _, step in sent.values()):
        cancel.wait(min(1.0, wait_s))  # the outlet must first go dark: don't mistake the old "on" for the new
    seen = await_states(pdu, {n: step.expect for n, (_, step) in sent.items()}, wait_s, cancel)
    out = {}
    for number, (before, step) in sent.items():
        after = seen[number]
        detail = {"before": before.state.value, "sent": step.send.value}
        if after.state == step.expect:
            out[number] = fanout.Result(f"{job.target.name}:{number}", _result(job, after, step.message, detail))
        else:
            error = Timeout(f"{step.message} sent, but the outlet still reads {after.state.value} after {wait_s:g}s")
            out[number] = _failed(job, number, error)
    return out


def _per_outlet(progress: Any) -> Any:
    """A fan-out progress callback over PDU jobs that reports each outlet's result (for logs and bars)."""
    if progress is None:
        return None

    def each(result: fanout.Result[Any]) -> None:
        for outlet in result.value if result.ok and result.value else []:
            progress(outlet)

    return each


def _unresolved(jobs: Sequence[Job]) -> dict[str, str]:
    """PDU name -> why its address does not resolve (DNS), for PDUs that cannot even be looked up."""
    reasons = unresolvable(j.target.endpoint.address for j in jobs)
    return {j.target.name: reasons[j.target.endpoint.address] for j in jobs if j.target.endpoint.address in reasons}


def _dns_failures(job: Job, reason: str) -> list[fanout.Result[OutletResult]]:
    error = ConnectError(f"PDU {job.target.endpoint.address}: the name does not resolve ({reason})")
    return [fanout.Result(label, error=error) for label in job.labels()]


def run_jobs(
    jobs: Sequence[Job], work: Callable[[Job], list[fanout.Result[OutletResult]]], options: fanout.Options
) -> list[fanout.Result[OutletResult]]:
    """`work` (a read) on every PDU at once; a PDU that fails as a whole fails each of its outlets."""
    dns = _unresolved(jobs)
    live = [j for j in jobs if j.target.name not in dns]
    job_options = replace(options, progress=_per_outlet(options.progress))
    done = {r.target: r for r in fanout.run(work, live, [j.target.name for j in live], job_options)}
    results: list[fanout.Result[OutletResult]] = []
    for job in jobs:
        result = done.get(job.target.name)
        if result is None:
            results.extend(_dns_failures(job, dns[job.target.name]))
        elif result.ok and result.value is not None:
            results.extend(result.value)
        else:
            results.extend(fanout.Result(label, error=result.error, attempts=result.attempts) for label in job.labels())
    return results


def switch_jobs(
    jobs: Sequence[Job], action: PowerAction, options: fanout.Options, wait_s: float
) -> list[fanout.Result[OutletResult]]:
    """Switch outlets on several PDUs (no log entry: the caller records the operation).

    A PDU job that fails or runs out of time after sending anything is stopped, allowed LATE_S to end,
    and its outlets are read back: the results say what they read, not what was hoped.
    """
    if action not in SWITCHING:
        raise ValidationError(f"an outlet can be switched on, off or cycled, not '{action.value}'")
    dns = _unresolved(jobs)
    live = [j for j in jobs if j.target.name not in dns]
    controls = [_Control() for _ in live]
    longest = max((len(j.numbers or j.target.outlets) for j in live), default=1)
    job_options = replace(
        options, retries=0, timeout=options.timeout + wait_s + 0.5 * longest, progress=_per_outlet(options.progress)
    )
    work = list(zip(live, controls, strict=True))
    done = fanout.run(
        lambda pair: _switch(pair[0], action, wait_s, pair[1]), work, [j.target.name for j in live], job_options
    )
    by_name = {
        job.target.name: _settled(job, control, result, action, options)
        for (job, control), result in zip(work, done, strict=True)
    }
    return [r for job in jobs for r in by_name.get(job.target.name) or _dns_failures(job, dns[job.target.name])]


def _settled(
    job: Job, control: _Control, result: fanout.Result[Any], action: PowerAction, options: fanout.Options
) -> list[fanout.Result[OutletResult]]:
    """A PDU job's outlet results; after a failure or timeout, what its outlets read back."""
    if result.ok and result.value is not None:
        return list(result.value)
    if isinstance(result.error, NotStarted):  # a stop came before its turn: never touched
        return [fanout.Result(label, error=result.error, attempts=0) for label in job.labels()]
    control.cancel.set()
    ended = control.finished.wait(LATE_S)
    if not control.sent:
        return [fanout.Result(label, error=result.error, attempts=result.attempts) for label in job.labels()]
    return read_back(job, result.message, ended, action, options)


def read_back(
    job: Job, why: str, ended: bool, action: PowerAction, options: fanout.Options
) -> list[fanout.Result[OutletResult]]:
    """The job's outlets as they read now, after its run failed: its state is unknown until read."""
    read = fanout.run_one(_read, job, job.target.name, replace(options, retries=0, stop=None))
    states = {r.target: r for r in (read.value or [])} if read.ok else {}
    stuck = "" if ended else "; its PDU session is still stuck, so a late request may still land"
    wanted = PowerState.OFF if action == PowerAction.OFF else PowerState.ON
    out: list[fanout.Result[OutletResult]] = []
    for label in job.labels():
        seen = states.get(label)
        if seen is None or not seen.ok or seen.value is None:
            out.append(fanout.Result(label, error=Timeout(f"{why}: state unknown (the read-back failed too){stuck}")))
        elif seen.value.state == wanted and action != PowerAction.CYCLE and not stuck:
            value = replace(seen.value, message=f"{wanted.value} (read back after: {why})")
            out.append(fanout.Result(label, value))
        else:
            out.append(fanout.Result(label, error=Timeout(f"{why}: reads {seen.value.state.value} now{stuck}")))
    return out


def status(db: Database, actor: str, spec: str, options: fanout.Options) -> Outcome:
    """Read the outlets of the spec: one result per outlet, logged."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    outcome = Outcome(f"pdu status {spec}", run_jobs(jobs, _read, options))
    record(db, actor, outcome)
    return outcome


@dataclass(frozen=True)
class PduReport:
    """What `pdu readings` shows: the PDU, its identity, everything it measures, and the values it
    answered but that cannot be read (each one an error of this PDU, never a zero)."""

    pdu: str
    identity: PduIdentity
    readings: PduReadings
    feeds: dict[int, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def unmetered(readings: PduReadings, mib: str) -> str:
    """Why a PDU that measured nothing is not a success."""
    if readings.switched:
        return f"switched, not metered: the PDU reports outlet states but no readings ({mib})"
    return f"no readings in the expected tables of {mib}: wrong family? (try: rackctl pdu probe)"


def read_meters(target: PduTarget) -> PduReport:
    """Identity and readings of one PDU; a PDU that measures nothing fails."""
    with driver_for(target) as pdu:
        require(pdu, PduMeter)
        readings = pdu.readings()
        if not readings.metered and not readings.problems:
            raise CommandError(unmetered(readings, getattr(pdu.family, "mib", readings.family)))
        return PduReport(target.name, pdu.identity(), readings, target.feeds, tuple(readings.problems))


def readings(db: Database, spec: str, options: fanout.Options) -> list[fanout.Result[PduReport]]:
    """Identity and measurements of every PDU the spec names (its outlets part is ignored)."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    return fanout.run(lambda job: read_meters(job.target), jobs, [j.target.name for j in jobs], options)
