"""Collectors: how each layer's observed state is read from devices. The seams of the audit.

Each collector takes endpoints (never database rows) and returns one fanout Result per endpoint:
a value, or the error that kept it from being read. The audit reports an error as "not audited"
with its message, never as clean. The host collector is real (SSH probe); the others are written
against the observed-state types in `state.py` and raise Unsupported until their drivers land:

    collect_bmc(endpoints, options)          -> Result[BmcObserved] each      (drivers/ipmi.py, redfish.py)
    collect_switch(endpoints, options)       -> Result[SwitchObserved] each   (services/switch)
    collect_switch_lldp(endpoints, options)  -> Result[CablingObserved] each  (switch LLDP via netmiko)
    collect_pdu(endpoints, options)          -> Result[PduObserved] each      (drivers/pdu_snmp.py)

Replacing one means replacing its `_read_*` function (one device, one driver session), or the whole
batch function where a tool answers for many devices at once (FreeIPMI's ipmipower, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from rackctl import fanout, secrets
from rackctl.drivers.base import ProbeRequest
from rackctl.drivers.hostfacts import HostFacts
from rackctl.errors import RackctlError, Unsupported
from rackctl.services.audit.state import BmcObserved, CablingObserved, PduObserved, SwitchObserved
from rackctl.services.bmc import BmcTarget, execute, with_driver
from rackctl.types import Endpoint, Health, MgmtProtocol

NOT_AVAILABLE = "layer not available yet"
T = TypeVar("T")


def _read_host(item: tuple[Endpoint, ProbeRequest], timeout: float) -> HostFacts:
    # Imported here: paramiko is only loaded when a host is actually audited.
    from rackctl.drivers.host_ssh import HostSsh

    endpoint, request = item
    with HostSsh(endpoint, timeout=timeout) as host:
        return host.facts(request)


def collect_host(
    items: Sequence[tuple[Endpoint, ProbeRequest]], options: fanout.Options
) -> list[fanout.Result[HostFacts]]:
    """Probe each host once over SSH (the probe's facts serve the host and the cabling layer)."""
    # The SSH timeouts sit inside fanout's deadline, so a slow host ends as a clean Timeout error.
    inner = max(1.0, options.timeout * 0.9)
    return fanout.run(lambda item: _read_host(item, inner), items, [e.name for e, _ in items], options)


def _each(
    read: Callable[[Endpoint], T], endpoints: Sequence[Endpoint], options: fanout.Options
) -> list[fanout.Result[T]]:
    """One driver session per endpoint, `options.workers` at once, a result for each."""
    return fanout.run(read, endpoints, [e.name for e in endpoints], options)


def _not_yet(what: str) -> Callable[[Endpoint], Any]:
    def read(endpoint: Endpoint) -> Any:
        raise Unsupported(f"{what}: {NOT_AVAILABLE}")

    return read


# The per-device readers: each becomes one driver session (open, read, close) when its driver lands.
_read_switch: Callable[[Endpoint], SwitchObserved] = _not_yet("switch")
_read_switch_lldp: Callable[[Endpoint], CablingObserved] = _not_yet("cabling on switches")
_read_pdu: Callable[[Endpoint], PduObserved] = _not_yet("pdu")


def observe_bmc(bmc: Any) -> BmcObserved:
    """One BMC session: what it says about the machine, its power, its sensors' worst health, its events."""
    inventory = bmc.inventory()
    power = bmc.power_state()
    health = worst_health(r.health for r in bmc.sensors())
    try:
        events = tuple(bmc.events())
    except Unsupported:
        events = ()  # NOTE(sushy-tools, some Redfish BMCs): no log service: nothing to compare
    return BmcObserved(inventory, power, health, events)


def worst_health(healths: Iterable[Health]) -> Health:
    seen = set(healths)
    for level in (Health.CRITICAL, Health.WARNING, Health.OK):
        if level in seen:
            return level
    return Health.UNKNOWN


def _bmc_target(endpoint: Endpoint) -> BmcTarget:
    reference = endpoint.options.get("credential_ref") or ""
    password = secrets.resolve(reference) if reference else None
    resolved = Endpoint(**{**endpoint.__dict__, "password": password})
    return BmcTarget(endpoint.name, resolved, MgmtProtocol(endpoint.protocol))


def collect_bmc(endpoints: Sequence[Endpoint], options: fanout.Options) -> list[fanout.Result[BmcObserved]]:
    """Identity, firmware, power state, health and critical events of each BMC (dead ones cost one ping)."""
    targets, refused = [], {}
    for endpoint in endpoints:
        try:
            targets.append(_bmc_target(endpoint))
        except RackctlError as exc:
            refused[endpoint.name] = fanout.Result(endpoint.name, error=exc, attempts=0)
    outcome = execute("audit bmc", targets, with_driver(observe_bmc), options)
    done = {r.target: r for r in outcome.results} | refused
    return [done[e.name] for e in endpoints]


def collect_switch(endpoints: Sequence[Endpoint], options: fanout.Options) -> list[fanout.Result[SwitchObserved]]:
    """Each switch's running configuration, per port: MTU, VLANs, port-channel, admin state."""
    return _each(_read_switch, endpoints, options)


def collect_switch_lldp(endpoints: Sequence[Endpoint], options: fanout.Options) -> list[fanout.Result[CablingObserved]]:
    """The LLDP neighbours each switch sees."""
    return _each(_read_switch_lldp, endpoints, options)


def collect_pdu(endpoints: Sequence[Endpoint], options: fanout.Options) -> list[fanout.Result[PduObserved]]:
    """Outlet states and measured load of each PDU."""
    return _each(_read_pdu, endpoints, options)
