"""PDU outlets from the inventory: status, on/off/cycle with one result per outlet, and readings.

A spec is `PDU[:OUTLETS]`: PDU is a name or node set of PDUs (`pdu-r12-[a1,b1]`, `@rack:r12` keeps
its PDUs), OUTLETS a range set (`25-27,30`); without outlets, every outlet the inventory lists (or,
for a PDU the inventory has none for, every outlet the PDU reports). Switching reads each outlet
first and switches only when needed; a PDU that does not answer, or refuses a command, fails those
outlets and nothing else. Endpoints are read in a short transaction, PDUs talked to with none open.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ClusterShell.RangeSet import RangeSet, RangeSetParseError
from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl import targets as targets_module
from rackctl.drivers.base import OutletControl, OutletStatus, PduIdentity, PduMeter, PduReadings
from rackctl.drivers.registry import driver_class
from rackctl.errors import CommandError, ConfigError, DriverError, NotFound, Timeout, ValidationError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.services import power
from rackctl.services.bmc import Outcome, record, require
from rackctl.services.endpoints import management_endpoint
from rackctl.types import DeviceRole, Endpoint, MgmtProtocol, PowerAction, PowerState

_RANGE = re.compile(r"^[\d,\-\[\]\s]+$")
POLL_S = 0.3
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
    """Outlets of one PDU to act on; no numbers: every outlet."""

    target: PduTarget
    numbers: tuple[int, ...] = ()

    def labels(self) -> list[str]:
        """One label per outlet; `PDU:*` when neither the spec nor the inventory names outlets."""
        return [f"{self.target.name}:{n}" for n in self.numbers or self.target.outlets or ("*",)]

    def feeds(self) -> list[tuple[str, str]]:
        """(label, what the outlet feeds) per outlet, for plans and confirmations."""
        numbers = self.numbers or self.target.outlets
        if not numbers:
            return [(f"{self.target.name}:*", "every outlet")]
        return [(f"{self.target.name}:{n}", self.target.feeds.get(n, "")) for n in numbers]


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


def parse_spec(spec: str) -> tuple[str, tuple[int, ...]]:
    """'pdu-r12-a1:25-27,30' -> ('pdu-r12-a1', (25, 26, 27, 30)); no outlets -> ()."""
    head, colon, tail = spec.strip().rpartition(":")
    if not colon or not _RANGE.match(tail):
        return spec.strip(), ()
    try:
        numbers = tuple(int(n) for n in RangeSet(tail.replace(" ", "").strip("[]")))
    except (RangeSetParseError, ValueError) as exc:
        raise ValidationError(f"'{spec}': outlets '{tail}' are not a range like 1-3,7 ({exc})") from None
    if not numbers or min(numbers) < 1:
        raise ValidationError(f"'{spec}': outlet numbers start at 1")
    return head, numbers


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
    """The PDUs (and outlets) a spec names; other devices in a group expression are left out."""
    expression, numbers = parse_spec(spec)
    devices = queries.devices(session, targets_module.resolve(session, expression))
    pdus = [d for d in devices if d.role == DeviceRole.PDU]
    if not pdus:
        raise NotFound(f"'{expression}' holds no PDU")
    jobs = [Job(target_of(d), numbers) for d in pdus]
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


def await_states(pdu: Any, expected: dict[int, PowerState], seconds: float) -> dict[int, OutletStatus]:
    """Poll until the outlets read as expected or `seconds` pass; returns the last reading."""
    deadline = time.monotonic() + seconds
    while True:
        seen = {s.number: s for s in pdu.outlets(sorted(expected))}
        if all(seen[n].state == state for n, state in expected.items()) or time.monotonic() >= deadline:
            return seen
        time.sleep(POLL_S)


def _send(job: Job, pdu: Any, status: OutletStatus, action: PowerAction) -> fanout.Result[OutletResult] | Any:
    """Command one outlet if it needs it: a finished result, or the plan step that was sent."""
    label = f"{job.target.name}:{status.number}"
    try:
        if status.problem:
            raise CommandError(status.problem)
        step = power.plan(action, status.state)
        if step.send is None:
            return fanout.Result(label, _result(job, status, step.message))
        pdu.set_outlet(status.number, step.send)
        return step
    except DriverError as exc:
        return fanout.Result(label, error=exc)


def _switch(job: Job, action: PowerAction, wait_s: float) -> list[fanout.Result[OutletResult]]:
    with driver_for(job.target) as pdu:
        require(pdu, OutletControl)
        before = pdu.outlets(job.numbers or job.target.outlets or None)
        results: dict[int, fanout.Result[OutletResult]] = {}
        sent: dict[int, tuple[OutletStatus, Any]] = {}
        for status in before:
            outcome = _send(job, pdu, status, action)
            if isinstance(outcome, fanout.Result):
                results[status.number] = outcome
            else:
                sent[status.number] = (status, outcome)
        results |= _confirm(job, pdu, sent, wait_s)
    return [results[s.number] for s in before]


def _confirm(
    job: Job, pdu: Any, sent: dict[int, tuple[OutletStatus, Any]], wait_s: float
) -> dict[int, fanout.Result[OutletResult]]:
    """Read the switched outlets back until they are as commanded (a cycle: back on)."""
    if not sent:
        return {}
    if any(step.send == PowerAction.CYCLE for _, step in sent.values()):
        time.sleep(min(1.0, wait_s))  # the outlet must first go dark: don't mistake the old "on" for the new
    seen = await_states(pdu, {n: step.expect for n, (_, step) in sent.items()}, wait_s)
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


def run_jobs(
    jobs: Sequence[Job], work: Callable[[Job], list[fanout.Result[OutletResult]]], options: fanout.Options
) -> list[fanout.Result[OutletResult]]:
    """`work` on every PDU at once; a PDU that fails as a whole fails each of its outlets."""
    done = fanout.run(work, list(jobs), [j.target.name for j in jobs], options)
    results: list[fanout.Result[OutletResult]] = []
    for job, result in zip(jobs, done, strict=True):
        if result.ok and result.value is not None:
            results.extend(result.value)
        else:
            results.extend(fanout.Result(label, error=result.error, attempts=result.attempts) for label in job.labels())
    return results


def switch_jobs(
    jobs: Sequence[Job], action: PowerAction, options: fanout.Options, wait_s: float
) -> list[fanout.Result[OutletResult]]:
    """Switch outlets on several PDUs (no log entry: the caller records the operation)."""
    if action not in SWITCHING:
        raise ValidationError(f"an outlet can be switched on, off or cycled, not '{action.value}'")
    longest = max((len(j.numbers or j.target.outlets) for j in jobs), default=1)
    job_options = replace(options, retries=0, timeout=options.timeout + wait_s + 0.5 * longest)
    return run_jobs(jobs, lambda job: _switch(job, action, wait_s), job_options)


def _logged(db: Database, actor: str, command: str, results: list[fanout.Result[Any]]) -> Outcome:
    outcome = Outcome(command, results)
    record(db, actor, outcome)
    return outcome


def status(db: Database, actor: str, spec: str, options: fanout.Options) -> Outcome:
    """Read the outlets of the spec: one result per outlet, logged."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    return _logged(db, actor, f"pdu status {spec}", run_jobs(jobs, _read, options))


def switch(db: Database, actor: str, spec: str, action: PowerAction, options: fanout.Options, wait_s: float) -> Outcome:
    """Switch the outlets of the spec on, off or through a cycle; one logged result per outlet."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    return _logged(db, actor, f"pdu {action.value} {spec}", switch_jobs(jobs, action, options, wait_s))


def planned(db: Database, spec: str) -> list[tuple[str, str]]:
    """(outlet label, what it feeds) for every outlet a spec names, for --dry-run and confirmation."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    return [item for job in jobs for item in job.feeds()]


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
