"""Plan an audit from the inventory: per layer, which devices, how to reach them, what to expect.

Read in one short transaction; the plan holds plain values only, so talking to devices afterwards
needs no database session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, selectinload

from rackctl.drivers.base import ProbeRequest
from rackctl.errors import RackctlError
from rackctl.inventory import queries
from rackctl.inventory.export import host_address
from rackctl.inventory.models import Device, Interface
from rackctl.services.audit import expect
from rackctl.services.audit.outcome import Shard
from rackctl.services.audit.state import (
    CablingExpected,
    FeedPlan,
    HostExpected,
    SwitchExpected,
    health_url,
    host_units,
)
from rackctl.services.endpoints import management_endpoint, pinned_keys
from rackctl.services.switch import ops
from rackctl.services.switch.ops import SwitchJob
from rackctl.services.switch.plan import Plan as SwitchPlan
from rackctl.services.switch.plan import load_plan
from rackctl.types import BMC_PROTOCOLS, SWITCH_ROLES, DeviceRole, Endpoint, Layer


@dataclass(frozen=True)
class SshAccess:
    """How rackctl logs in to hosts (settings ssh_user, ssh_key); host keys come from the inventory."""

    user: str = "root"
    key: str = ""


@dataclass(frozen=True)
class Job:
    """One device on one out-of-band layer; `problem` says why it cannot be audited at all.

    `endpoint` is what the layer's collector takes: an Endpoint (BMC, PDU), or for the switch layers the
    switch engine's SwitchJob (platform, address, credential reference).
    """

    device: str
    layer: Layer
    expected: Any
    endpoint: Endpoint | SwitchJob | None = None
    problem: str = ""


@dataclass(frozen=True)
class HostJob:
    """One GPU node's probe, feeding the host layer, the cabling layer, or both."""

    device: str
    request: ProbeRequest
    host: HostExpected | None = None
    cabling: CablingExpected | None = None
    endpoint: Endpoint | None = None
    problem: str = ""


@dataclass
class Plan:
    hosts: list[HostJob] = field(default_factory=list)
    bmc: list[Job] = field(default_factory=list)
    switch: list[Job] = field(default_factory=list)
    switch_cabling: list[Job] = field(default_factory=list)
    pdu: list[Job] = field(default_factory=list)
    feeds: list[FeedPlan] = field(default_factory=list)


def shard_key(device: Device) -> str:
    return device.rack.name if device.rack else device.name


def host_endpoint(device: Device, ssh: SshAccess) -> Endpoint | None:
    address = host_address(device)
    if address is None:
        return None
    options = {"key_filename": ssh.key, "host_keys": pinned_keys(device)}
    return Endpoint(device.name, address, 22, "ssh", ssh.user, None, True, options)


def _host_job(device: Device, cables: expect.CableMap, layers: Sequence[Layer], ssh: SshAccess) -> HostJob:
    host = expect.host_expected(device, cables)
    request = ProbeRequest(tuple(n.name for n in host.nics), host_units(host), health_url(host))
    endpoint = host_endpoint(device, ssh)
    return HostJob(
        device=device.name,
        request=request,
        host=host if Layer.HOST in layers else None,
        cabling=expect.cabling_expected(device, cables) if Layer.CABLING in layers else None,
        endpoint=endpoint,
        problem="" if endpoint else "no host address in the inventory (give bond0 an address)",
    )


def _job(device: Device, layer: Layer, expected: Any, what: str) -> Job:
    try:
        endpoint = management_endpoint(device, resolve_secrets=False)
    except RackctlError as exc:  # a stored endpoint no driver can use: this device is not audited
        return Job(device.name, layer, expected, None, str(exc))
    return Job(device.name, layer, expected, endpoint, "" if endpoint else f"no {what} address in the inventory")


def _add(plan: Plan, device: Device, cables: expect.CableMap, layers: Sequence[Layer], ssh: SshAccess) -> None:
    role = device.role
    if role == DeviceRole.GPU_NODE and (Layer.HOST in layers or Layer.CABLING in layers):
        plan.hosts.append(_host_job(device, cables, layers, ssh))
    if Layer.BMC in layers and device.mgmt is not None and device.mgmt.protocol in BMC_PROTOCOLS:
        plan.bmc.append(_job(device, Layer.BMC, expect.bmc_expected(device), "BMC"))
    if role == DeviceRole.PDU and Layer.PDU in layers:
        plan.pdu.append(_job(device, Layer.PDU, expect.pdu_expected(device), "PDU"))


def _refusal(exc: RackctlError) -> str:
    return f"{exc} ({exc.hint})" if exc.hint else str(exc)


def _switch_job(device: Device, intents: SwitchPlan) -> Job:
    """The switch layer: the running configuration against the intent the switch engine renders."""
    try:
        reach = ops.access(device)
        expected = SwitchExpected(device.name, reach.platform, ops.intended_config(device, intents))
    except RackctlError as exc:  # bad intent or no SSH endpoint: this switch is not audited, the others are
        return Job(device.name, Layer.SWITCH, None, problem=_refusal(exc))
    return Job(device.name, Layer.SWITCH, expected, reach)


def _switch_cabling_job(device: Device, cables: expect.CableMap) -> Job:
    expected = expect.cabling_expected(device, cables)
    try:
        return Job(device.name, Layer.CABLING, expected, ops.access(device))
    except RackctlError as exc:
        return Job(device.name, Layer.CABLING, expected, problem=_refusal(exc))


def _add_switches(
    plan: Plan, session: Session, switches: Sequence[Device], cables: expect.CableMap, layers: Sequence[Layer]
) -> None:
    intents = load_plan(session, switches) if Layer.SWITCH in layers and switches else SwitchPlan()
    for device in switches:
        if Layer.SWITCH in layers:
            plan.switch.append(_switch_job(device, intents))
        if Layer.CABLING in layers:
            plan.switch_cabling.append(_switch_cabling_job(device, cables))


# What the plan reads of every device, loaded for all of them in a few queries (lazily: ~10 queries a host).
_PLAN_LOADS = (
    selectinload(Device.interfaces).selectinload(Interface.addresses),
    selectinload(Device.interfaces).selectinload(Interface.members),
    selectinload(Device.host_keys),
    selectinload(Device.mgmt),
    selectinload(Device.profile),
    selectinload(Device.device_type),
)


def build_plan(
    session: Session, names: Sequence[str], layers: Sequence[Layer], ssh: SshAccess, shard: Shard | None = None
) -> Plan:
    """The audit's jobs for the named devices (already resolved), in the given shard."""
    devices = [d for d in queries.devices(session, names, *_PLAN_LOADS) if shard is None or shard.holds(shard_key(d))]
    cables = expect.cable_map(session, devices)
    plan = Plan()
    for device in devices:
        _add(plan, device, cables, layers, ssh)
    _add_switches(plan, session, [d for d in devices if d.role in SWITCH_ROLES], cables, layers)
    audited_pdus = {job.device for job in plan.pdu}
    racks = {d.rack.id: d.rack for d in devices if d.rack is not None and d.role == DeviceRole.PDU}
    for rack in racks.values():
        feed = expect.feed_plan(rack)
        # A feed's load is the sum over its PDUs: check it only when every PDU of the rack is audited.
        if {p for pdus in feed.pdus.values() for p in pdus} <= audited_pdus:
            plan.feeds.append(feed)
    return plan
