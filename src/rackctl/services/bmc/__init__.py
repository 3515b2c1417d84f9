"""Run one BMC operation over many nodes: endpoints from the inventory, a reachability check, the
fan-out with deadlines and retries, and one operation-log entry with every node's result.

Data flows one way: endpoints are read in a short transaction, devices are talked to with no
transaction open, and results are recorded in another short transaction.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, selectinload

from rackctl import fanout, fanout_loop
from rackctl import targets as targets_module
from rackctl.config import Settings, load_settings
from rackctl.drivers import rmcp
from rackctl.drivers.base import PowerReadAsync
from rackctl.drivers.registry import driver_class
from rackctl.errors import ConfigError, ConnectError, NotFound, RackctlError, Unsupported
from rackctl.fanout_forked import can_fork, run_forked
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.inventory.models import Device
from rackctl.services import journal, leases, oplog
from rackctl.services.endpoints import Known, management_endpoint, unresolvable
from rackctl.services.oplog import TargetResult
from rackctl.types import BMC_PROTOCOLS, DeviceRole, Endpoint, MgmtProtocol

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_PORTS = {MgmtProtocol.IPMI: 623, MgmtProtocol.REDFISH: 443}


@dataclass(frozen=True)
class BmcTarget:
    """A node and how to reach its BMC (the credential already resolved)."""

    name: str
    endpoint: Endpoint
    protocol: MgmtProtocol  # ipmi, redfish, or auto (probed at use)


@dataclass
class Outcome:
    """What an operation did to each node, in the order the nodes were given."""

    command: str
    results: list[fanout.Result[Any]] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    skipped: list[str] = field(default_factory=list)  # devices without a BMC, left out

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def as_target_results(self) -> list[TargetResult]:
        return [oplog.target_result(r) for r in self.results]


def endpoint_of(device: Device, settings: Settings | None = None, known: Known | None = None) -> Endpoint:
    """The device's BMC as a driver value, its secret read when first needed (never stored resolved);
    `settings` and `known` as `management_endpoint` takes them, for many devices at once."""
    mgmt = device.mgmt
    if mgmt is not None and mgmt.address and mgmt.protocol not in BMC_PROTOCOLS:
        raise ConfigError(f"{device.name} is managed over {mgmt.protocol}, not through a BMC")
    endpoint = management_endpoint(device, settings=settings, known=known)
    if endpoint is None:
        raise ConfigError(
            f"{device.name} has no BMC address in the inventory", hint="rackctl device set --mgmt-address"
        )
    return endpoint


def has_bmc(device: Device) -> bool:
    """Servers have BMCs; switches, PDUs and console servers are managed otherwise."""
    if device.role in (DeviceRole.GPU_NODE, DeviceRole.STORAGE):
        return True
    return device.mgmt is not None and device.mgmt.protocol in BMC_PROTOCOLS


def split_nodes(session: Session, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """The named devices with a BMC (what a BMC command acts on) and those without; reads no secret."""
    devices = queries.devices(session, names)
    return [d.name for d in devices if has_bmc(d)], [d.name for d in devices if not has_bmc(d)]


def load_targets(session: Session, names: Sequence[str]) -> tuple[list[BmcTarget], list[fanout.Result[Any]], list[str]]:
    """Endpoints for the named nodes, failed results for nodes that cannot be targeted, and the
    names of devices that have no BMC at all (switches, PDUs), which are left out."""
    targets: list[BmcTarget] = []
    refused: list[fanout.Result[Any]] = []
    skipped: list[str] = []
    known: Known = {}  # a credential many nodes share is checked and read once
    settings = load_settings()  # the secret policy, read once for all nodes
    for device in queries.devices(session, names, selectinload(Device.mgmt)):
        if not has_bmc(device):
            skipped.append(device.name)
            continue
        try:
            endpoint = endpoint_of(device, settings, known)
        except RackctlError as exc:
            refused.append(fanout.Result(device.name, error=exc, attempts=0))
            continue
        targets.append(BmcTarget(device.name, endpoint, MgmtProtocol(endpoint.protocol)))
    return targets, refused, skipped


def _tcp_open(address: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def reachable(targets: Sequence[BmcTarget], timeout: float = 1.0) -> set[str]:
    """Names of the targets whose BMC answers at all: an RMCP ping for IPMI, a TCP connect otherwise."""
    ipmi: dict[tuple[str, int], list[str]] = {}  # nodes may share a BMC address (another user, a chassis)
    for t in targets:
        if t.protocol != MgmtProtocol.REDFISH:
            ipmi.setdefault((t.endpoint.address, t.endpoint.port or 623), []).append(t.name)
    answered = {name for a in rmcp.ping_many(ipmi, timeout=timeout) for name in ipmi[a]} if ipmi else set()
    others = [t for t in targets if t.protocol != MgmtProtocol.IPMI and t.name not in answered]
    with ThreadPoolExecutor(max_workers=64) as pool:
        opened = pool.map(
            lambda t: _tcp_open(t.endpoint.address, t.endpoint.port or DEFAULT_PORTS[MgmtProtocol.REDFISH], timeout),
            others,
        )
        answered |= {t.name for t, ok in zip(others, opened, strict=True) if ok}
    return answered


def driver_for(target: BmcTarget) -> Any:
    """An unopened driver session for the target's protocol (auto: Redfish if it answers, else IPMI)."""
    protocol = target.protocol
    if protocol == MgmtProtocol.AUTO:
        protocol = probe_protocol(target.endpoint)
    endpoint = target.endpoint
    if protocol.value != endpoint.protocol:
        endpoint = Endpoint(**{**endpoint.__dict__, "protocol": protocol.value})
    return driver_class("rackctl.bmc", protocol.value)(endpoint)


def probe_protocol(endpoint: Endpoint, timeout: float = 2.0) -> MgmtProtocol:
    """Redfish first (its service root answers), then IPMI (an RMCP ping)."""
    redfish = driver_class("rackctl.bmc", "redfish")
    if redfish.answers(endpoint, timeout):
        return MgmtProtocol.REDFISH
    if rmcp.ping(endpoint.address, endpoint.port or 623, timeout):
        return MgmtProtocol.IPMI
    raise ConnectError(f"{endpoint.address}: neither Redfish nor IPMI answers")


def with_driver(operation: Callable[[Any], T]) -> Callable[[BmcTarget], T]:
    """Wrap a driver operation so each call opens, uses and always closes one session (its coroutine
    variant, from `on_loop`, wrapped the same way)."""

    def run(target: BmcTarget) -> T:
        with driver_for(target) as bmc:
            return operation(bmc)

    variant = getattr(operation, _ON_LOOP, None)
    if variant is not None:
        setattr(run, _ON_LOOP, _with_driver_async(variant))
    return run


def _with_driver_async(operation: Callable[[Any], Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    async def run(target: BmcTarget, bmc: Any = None) -> T:
        bmc = bmc or driver_for(target)  # a driver already greeted by the presence check, or a new one
        try:
            await bmc.open_async()
            return await operation(bmc)
        finally:
            bmc.__exit__(None, None, None)  # also when cancelled at the deadline: the session is closed

    return run


_ONE_LOOP = "_rackctl_one_loop"
_ON_LOOP = "_rackctl_on_loop"


def on_loop(variant: Callable[[Any], Awaitable[Any]]) -> Callable[[F], F]:
    """Mark a one-loop operation that has a coroutine `variant` for PowerReadAsync drivers: a fan-out
    over such BMCs runs the variant as tasks on the driver's loop (`fanout_loop`), no thread per target."""

    def mark(operation: F) -> F:
        setattr(operation, _ON_LOOP, variant)
        return one_loop(operation)

    return mark


def one_loop(operation: F) -> F:
    """Mark a driver operation that only reads and switches power: on IPMI that is the RMCP+ client, one
    asyncio loop for all sessions, which forked worker processes only duplicate (a third more CPU)."""
    setattr(operation, _ONE_LOOP, True)
    return operation


def require(bmc: Any, capability: type) -> None:
    if not isinstance(bmc, capability):
        raise Unsupported(f"this {bmc.protocol} BMC driver cannot {capability.__name__}")


def execute(
    command: str,
    targets: Sequence[BmcTarget],
    operation: Callable[[BmcTarget], Any],
    options: fanout.Options,
    precheck: bool = True,
    forkable: bool = True,
) -> Outcome:
    """Run `operation` on every target; dead BMCs cost one short check, not a timeout each."""
    outcome = Outcome(command)
    unknown = unresolvable(t.endpoint.address for t in targets) if precheck else {}
    named = [t for t in targets if t.endpoint.address not in unknown]
    ping_s = min(1.0, options.timeout)
    on_loop = _on_loop(operation, named)
    if on_loop is not None:  # each session starts at its own BMC's first answer: none waits for the slowest
        done = {r.target: r for r in on_loop(named, options, ping_s if precheck else None)}
    else:
        alive = reachable(named, timeout=ping_s) if precheck else {t.name for t in targets}
        live = [t for t in named if t.name in alive]
        done = {r.target: r for r in _fan_out(operation, live, options, forkable)}
    for target in targets:
        address = target.endpoint.address
        why = f"BMC {address} does not answer"
        if address in unknown:
            why = f"BMC {address}: the name does not resolve ({unknown[address]})"
        outcome.results.append(done.get(target.name, fanout.Result(target.name, error=ConnectError(why))))
    return outcome


FORK_FROM = 256  # IPMI targets; fewer finish as fast in one process


def _fan_out(
    operation: Callable[[BmcTarget], Any], live: list[BmcTarget], options: fanout.Options, forkable: bool
) -> list[Any]:
    """One process, or for a large IPMI fleet one process per core: pyghmi pushes every session through
    a single I/O thread, so more threads do not help but more processes do (`forkable`: pyghmi may be used)."""
    names = [t.name for t in live]
    processes = os.cpu_count() or 1
    large_ipmi = len(live) >= FORK_FROM and all(t.protocol == MgmtProtocol.IPMI for t in live)
    if forkable and large_ipmi and processes > 1 and can_fork("pyghmi.ipmi.private.session", "iothread"):
        return run_forked(operation, live, names, options, processes)
    return fanout.run(operation, live, names, options)


OnLoop = Callable[[list[BmcTarget], fanout.Options, "float | None"], list[fanout.Result[Any]]]


def _on_loop(operation: Callable[[BmcTarget], Any], targets: list[BmcTarget]) -> OnLoop | None:
    """For an operation with a coroutine variant (`on_loop`) over BMCs whose driver runs it: the run as
    tasks on the driver's loop, each target admitted at its BMC's first answer (ping_s None: no check)."""
    variant, driver = getattr(operation, _ON_LOOP, None), _async_driver(targets)
    if variant is None or driver is None:
        return None

    def run(live: list[BmcTarget], options: fanout.Options, ping_s: float | None) -> list[fanout.Result[Any]]:
        greetings = _Greetings(ping_s or 0.0)

        async def session(target: BmcTarget) -> Any:
            return await variant(target, greetings.drivers.pop(target.name, None))

        admit = greetings.refusal if ping_s is not None else None
        try:
            return fanout_loop.run(session, live, driver.event_loop(), [t.name for t in live], options, admit)
        finally:
            greetings.close()

    return run


class _Greetings:
    """The presence check of a loop fan-out: each BMC's driver sends the session's first request before the
    target waits for a slot, and a BMC silent for `within` seconds is refused there (as the RMCP ping
    check does for the other fan-outs). A live BMC's session goes on from that answer: no extra round trip,
    and a dead one holds no slot."""

    def __init__(self, within: float) -> None:
        self.within = within
        self.drivers: dict[str, Any] = {}

    async def refusal(self, target: BmcTarget) -> BaseException | None:
        try:
            bmc = driver_for(target)
        except Exception as exc:  # a target's failure is its result (a secret that cannot be read)
            return exc
        try:
            await bmc.greet_async(self.within)
        except ConnectError:
            return ConnectError(f"BMC {target.endpoint.address} does not answer")
        except Exception as exc:
            return exc
        self.drivers[target.name] = bmc
        return None

    def close(self) -> None:
        """Let go of the drivers of targets that never started (a stop): their links, no session yet."""
        for bmc in self.drivers.values():
            bmc.__exit__(None, None, None)
        self.drivers.clear()


def _async_driver(live: list[BmcTarget]) -> Any:
    """The driver class of every target when they share one that reads power as coroutines, else None."""
    protocols = {t.protocol for t in live}
    if len(protocols) != 1 or MgmtProtocol.AUTO in protocols:
        return None
    cls = driver_class("rackctl.bmc", protocols.pop().value)
    return cls if issubclass(cls, PowerReadAsync) else None


def record(db: Database, actor: str, outcome: Outcome) -> None:
    """Append the operation and every node's result to the operation log."""
    with db.transaction() as session:
        oplog.record(session, actor, outcome.command, outcome.as_target_results(), started_at=outcome.started_at)


def run_on_nodes(
    db: Database,
    actor: str,
    names: Sequence[str],
    command: str,
    operation: Callable[[Any], Any],
    options: fanout.Options,
    precheck: bool = True,
    label: str = "",
    doing: str = "",
) -> Outcome:
    """Run a driver operation on the BMC of every named node, log it, return every result.

    `names` are already resolved against the inventory; `label` is how the operation log names the
    targets (the node set as typed; the folded names otherwise). With `doing` ("cycled", "powered off")
    the operation changes the nodes: each is leased first (a node another run holds gets a failed result),
    and the intent is in the log before any BMC is asked anything.
    """
    label = label or targets_module.fold(names)
    with db.transaction() as session:
        bmc_targets, refused, skipped = load_targets(session, names)
    if not bmc_targets and not refused:
        raise NotFound(f"'{label}' holds no device with a BMC ({len(skipped)} switches, PDUs and the like)")
    for protocol in {t.protocol for t in bmc_targets} - {MgmtProtocol.AUTO}:
        driver_class("rackctl.bmc", protocol.value)  # a missing extra: one line now, not one per node
    with leases.held(db, [t.name for t in bmc_targets] if doing else [], doing, actor) as lease:
        refused += [lease.refusal(name) for name in lease.refused]
        live = [t for t in bmc_targets if t.name not in lease.refused]
        acted = {t.name for t in bmc_targets} | {r.target for r in refused}
        with journal.opened(db, actor, f"{command} {label}", [n for n in names if n in acted]) as log:
            forkable = not getattr(operation, _ONE_LOOP, False)
            run = with_driver(operation)
            outcome = execute(f"{command} {label}", live, run, log.observing(options), precheck, forkable)
            by_name = {r.target: r for r in [*outcome.results, *refused]}
            outcome.results = [by_name[name] for name in names if name in by_name]
            log.finish(outcome.results, interrupted=options.stop.reason if options.stop else "")
    outcome.skipped = skipped
    return outcome
