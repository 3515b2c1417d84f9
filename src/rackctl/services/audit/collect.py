"""Collectors: how each layer's observed state is read from devices. The seams of the audit.

Each collector takes what reaches its devices (endpoints, never database rows) and returns one fanout
Result per device: a value, or the error that kept it from being read. The audit reports an error as
"not audited" with its message, never as clean. One driver session per device:

    collect_host(items, options)             -> Result[HostFacts] each        (drivers/host_ssh.py: one probe)
    collect_bmc(endpoints, options)          -> Result[BmcObserved] each      (drivers/ipmi.py, redfish.py)
    collect_switch(switches, options)        -> Result[SwitchObserved] each   (the running configuration)
    collect_switch_lldp(switches, options)   -> Result[CablingObserved] each  (LLDP neighbours the switch sees)
    collect_pdu(endpoints, options)          -> Result[PduObserved] each      (drivers/pdu_snmp.py)

Switches are reached through the switch engine (services/switch/ops: SwitchJob, netmiko), whose
credential reference is resolved when the session opens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from rackctl import fanout, secrets
from rackctl.drivers.base import Neighbour, ProbeRequest
from rackctl.drivers.hostfacts import HostFacts, LldpNeighbor
from rackctl.errors import CommandError, RackctlError, Unsupported
from rackctl.services.audit.state import BmcObserved, CablingObserved, PduObserved, SwitchObserved
from rackctl.services.bmc import BmcTarget, execute, with_driver
from rackctl.services.cabling.check import looks_like_mac
from rackctl.services.switch.ops import SwitchJob, netmiko_connector
from rackctl.types import Endpoint, Health, MgmtProtocol

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


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def _each(read: Callable[[N], T], devices: Sequence[N], options: fanout.Options) -> list[fanout.Result[T]]:
    """One driver session per device (an Endpoint, a SwitchJob), `options.workers` at once, a result for each."""
    return fanout.run(read, devices, [d.name for d in devices], options)


# The per-device reader that becomes one driver session (open, read, close) when its driver lands.


def resolved(endpoint: Endpoint) -> Endpoint:
    """The endpoint with its secrets (password, SNMPv3 privacy key) read by the driver, inside the deadline."""
    options = dict(endpoint.options)
    reference = options.pop("credential_ref", "") or ""
    if options.get("priv_ref"):
        options["priv_key"] = secrets.deferred(str(options.pop("priv_ref")))
    password = secrets.deferred(reference) if reference else endpoint.password
    return Endpoint(**{**endpoint.__dict__, "password": password, "options": options})


def _read_pdu(endpoint: Endpoint) -> PduObserved:
    from rackctl.drivers.pdu_snmp import SnmpPdu  # pysnmp only when a PDU is audited

    with SnmpPdu(resolved(endpoint)) as pdu:
        outlets = {o.number: o.state for o in pdu.outlets() if not o.problem}
        return PduObserved(outlets, pdu.readings().load_w)


def observe_bmc(bmc: Any, reads: frozenset[str] = frozenset()) -> BmcObserved:
    """One BMC session: what it says about the machine, its power, its sensors' worst health, its events;
    with `reads`, also its firmware components and BIOS (only when the profile names them)."""
    readings = bmc.sensors()
    inventory = bmc.inventory(readings)  # the PSUs come from the same readings: one sensor walk
    power = bmc.power_state()
    health = worst_health(r.health for r in readings)
    try:
        events = tuple(bmc.events())
    except Unsupported:
        events = ()  # NOTE(sushy-tools, some Redfish BMCs): no log service: nothing to compare
    found, unreadable = _configuration(bmc, reads)
    return BmcObserved(inventory, power, health, events, found.get("firmware"), found.get("bios"), unreadable)


def _configuration(bmc: Any, reads: frozenset[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The firmware components and the BIOS, as far as this BMC can tell (why not, where it cannot)."""
    from rackctl.services.bmc import bios, firmware  # only when a profile asks for them

    readers = {"firmware": lambda: tuple(firmware.read_firmware(bmc)), "bios": lambda: bios.read_bios(bmc)}
    found: dict[str, Any] = {}
    unreadable: dict[str, str] = {}
    for name in sorted(reads):
        try:
            found[name] = readers[name]()
        except (Unsupported, CommandError) as exc:
            unreadable[name] = str(exc)
    return found, unreadable


def worst_health(healths: Iterable[Health]) -> Health:
    seen = set(healths)
    for level in (Health.CRITICAL, Health.WARNING, Health.OK):
        if level in seen:
            return level
    return Health.UNKNOWN


def _bmc_target(endpoint: Endpoint) -> BmcTarget:
    return BmcTarget(endpoint.name, resolved(endpoint), MgmtProtocol(endpoint.protocol))


def collect_bmc(
    endpoints: Sequence[Endpoint], options: fanout.Options, reads: Mapping[str, frozenset[str]] | None = None
) -> list[fanout.Result[BmcObserved]]:
    """Identity, firmware, power state, health and critical events of each BMC (dead ones cost one ping);
    `reads` names, per device, what else to read (its firmware components, its BIOS)."""
    targets, refused = [], {}
    for endpoint in endpoints:
        try:
            targets.append(_bmc_target(endpoint))
        except RackctlError as exc:
            refused[endpoint.name] = fanout.Result(endpoint.name, error=exc, attempts=0)
    wanted = reads or {}

    def observe(target: BmcTarget) -> BmcObserved:
        return with_driver(lambda bmc: observe_bmc(bmc, wanted.get(target.name, frozenset())))(target)

    outcome = execute("audit bmc", targets, observe, options)
    done = {r.target: r for r in outcome.results} | refused
    return [done[e.name] for e in endpoints]


def _read_switch(switch: SwitchJob) -> SwitchObserved:
    with netmiko_connector(switch) as session:
        return SwitchObserved(session.running_config())


def lldp_neighbor(seen: Neighbour) -> LldpNeighbor:
    """A neighbour as the switch driver reports it, in the form the host probe reports LLDP."""
    port_type = "mac" if looks_like_mac(seen.neighbour_port) else ""
    return LldpNeighbor(seen.port, seen.neighbour, seen.neighbour_port, port_type, seen.neighbour_port_description)


def _read_switch_lldp(switch: SwitchJob) -> CablingObserved:
    with netmiko_connector(switch) as session:
        return CablingObserved(tuple(lldp_neighbor(n) for n in session.neighbours()))


def collect_switch(switches: Sequence[SwitchJob], options: fanout.Options) -> list[fanout.Result[SwitchObserved]]:
    """Each switch's running configuration."""
    return _each(_read_switch, switches, options)


def collect_switch_lldp(switches: Sequence[SwitchJob], options: fanout.Options) -> list[fanout.Result[CablingObserved]]:
    """The LLDP neighbours each switch sees."""
    return _each(_read_switch_lldp, switches, options)


def collect_pdu(endpoints: Sequence[Endpoint], options: fanout.Options) -> list[fanout.Result[PduObserved]]:
    """Outlet states and measured load of each PDU."""
    return _each(_read_pdu, endpoints, options)
