"""Firmware against the profile's baseline: read it, plan what would change, and update one node.

`plan` reads every node's firmware inventory and compares it with its profile's baseline. `update_node`
carries out one node's plan, component by component in the baseline's order: start the update (the BMC
fetches the image from rackctl's short-lived server, or rackctl pushes it), follow the Redfish task to
its end, and after a BMC's own update wait until it is back at the new version. The host reboot the
other components need, and their verification, happen per batch (services/bmc/firmware_run.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rackctl import fanout
from rackctl.drivers import redfish_update_quirks as fw
from rackctl.drivers.base import FirmwareReader, FirmwareUpdater
from rackctl.drivers.bmcconfig import FirmwareComponent, UpdateService
from rackctl.errors import CommandError, RackctlError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services.bmc import BmcTarget, driver_for, execute, load_targets, require, with_driver
from rackctl.services.bmc.baseline import NodePlan, Step, Wanted, members, parse, plan_node, selected
from rackctl.services.bmc.images import Image
from rackctl.services.bmc.tasks import StillWaiting, Waits, follow, poll
from rackctl.versions import same_version


class StepFailed(CommandError):
    """A component's update failed; `detail` holds every component's before/after for the log."""

    def __init__(self, message: str, detail: dict[str, Any]) -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Served:
    """How one image reaches the BMCs: its checked bytes, and its URL on each serving address."""

    image: Image
    urls: Mapping[str, str]  # serving address -> URL


@dataclass(frozen=True)
class NodeUpdate:
    """One node after its updates (or with nothing to do)."""

    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    reboot: bool = False  # applied components wait for a host reboot

    def __str__(self) -> str:
        return self.message


def read_firmware(bmc: Any) -> list[FirmwareComponent]:
    require(bmc, FirmwareReader)
    return list(bmc.firmware())


def baselines(db: Database, names: Sequence[str], components: Sequence[str]) -> dict[str, dict[str, Wanted] | str]:
    """Each node's baseline (limited to `components`), or why it has none."""
    found: dict[str, dict[str, Wanted] | str] = {}
    with db.transaction() as session:
        for device in queries.devices(session, names):
            profile = device.profile
            columns = {"bmc": profile.bmc_firmware, "bios": profile.bios_firmware} if profile else {}
            # Without a firmware section, the profile's bmc_firmware/bios_firmware are a baseline without images
            # (enough to plan, not to update); with one, that section is the whole baseline.
            spec = (
                dict(profile.firmware)
                if profile and profile.firmware
                else {k: {"version": v} for k, v in columns.items() if v}
            )
            if profile is None or not spec:
                found[device.name] = "its profile names no firmware baseline"
                continue
            found[device.name] = selected(parse(spec, f"profile {profile.name}"), components)
    return found


def plan(
    db: Database, names: Sequence[str], components: Sequence[str], options: fanout.Options
) -> list[fanout.Result[NodePlan]]:
    """Read every node's firmware and compare it with its baseline; a result per node, in order."""
    wanted = baselines(db, names, components)
    with db.transaction() as session:
        targets, refused, _ = load_targets(session, [n for n in names if isinstance(wanted.get(n), dict)])
    reads = {r.target: r for r in execute("firmware plan", targets, with_driver(read_firmware), options).results}
    results: list[fanout.Result[NodePlan]] = []
    by_name = {r.target: r for r in refused}
    for name in names:
        baseline, read = wanted.get(name), reads.get(name) or by_name.get(name)
        if isinstance(baseline, str):
            results.append(fanout.Result(name, error=CommandError(baseline), attempts=0))
        elif read is not None and read.ok:
            results.append(fanout.Result(name, value=plan_node(name, baseline or {}, read.value or [])))
        elif read is not None:
            results.append(fanout.Result(name, error=read.error, attempts=read.attempts))
    return results


def detail(node_plan: NodePlan, after: Sequence[FirmwareComponent] | None = None) -> dict[str, Any]:
    """Before, wanted (and after) per component of the plan, as the operation log keeps it."""
    rows = {}
    for step in node_plan.steps:
        row = {"before": step.current, "wanted": step.wanted.version}
        if after is not None:
            row["after"] = _versions(step, after) or "not reported"
        rows[step.kind] = row
    return {"components": rows, "current": list(node_plan.current)}


def _versions(step: Step, components: Sequence[FirmwareComponent]) -> str:
    return ", ".join(sorted({c.version or "?" for c in members(step.wanted, components)}))


def at_baseline(components: Sequence[FirmwareComponent], steps: Sequence[Step]) -> bool:
    """Whether every component the steps cover now reports the wanted version."""
    return all(
        (found := members(s.wanted, components)) and all(same_version(s.wanted.version, c.version) for c in found)
        for s in steps
    )


def _via(step: Step, service: UpdateService) -> str:
    """SimpleUpdate (the BMC fetches from rackctl) unless the profile says push or the BMC only takes pushes."""
    if step.wanted.via:
        return step.wanted.via
    return "simple" if service.simple_update else "push"


def start(target: BmcTarget, step: Step, served: Served, address: str) -> tuple[str, str]:
    """Start one component's update; returns (how it was sent, the task to follow or "")."""
    with driver_for(target) as bmc:
        require(bmc, FirmwareUpdater)
        service = bmc.update_service()
        via = _via(step, service)
        targets = fw.targets_for(list(step.components))
        apply_time = "OnReset" if step.reboot else "Immediate"
        if via == "push":
            data = served.image.read_range(0, served.image.size)
            return via, bmc.push_update(served.image.name, data, targets, apply_time)
        return via, bmc.simple_update(served.urls[address], targets, apply_time)


def wait_at_version(target: BmcTarget, steps: Sequence[Step], waits: Waits) -> list[FirmwareComponent]:
    """The node's firmware once every step's components report the wanted version (the BMC may be away first)."""
    try:
        return poll(target, read_firmware, lambda found: at_baseline(found, steps), waits.bmc_s, waits.poll_s)
    except StillWaiting as exc:
        if exc.away:
            raise StillWaiting(
                f"the BMC did not come back within {waits.bmc_s:g}s; its firmware state is unknown ({exc.last})",
                exc.last,
            ) from None
        raise StillWaiting(f"not at the wanted version within {waits.bmc_s:g}s ({exc})", exc.last) from None


def update_node(
    target: BmcTarget, node_plan: NodePlan, images: Mapping[str, Served], address: str, waits: Waits
) -> NodeUpdate:
    """Apply the node's steps in order; the first failure ends the node (later steps are not started)."""
    sent: dict[str, str] = {}
    for step in node_plan.steps:
        try:
            via, uri = start(target, step, images[step.kind], address)
            status = follow(target, uri, waits) if uri else None
            if status is not None and not status.ok:
                said = "; ".join(status.messages) or status.status or "no message"
                raise CommandError(f"update task ended {status.state}: {said}")
            if step.bmc_reset:
                wait_at_version(target, [step], waits)
            sent[step.kind] = via
        except RackctlError as exc:
            done = f" (after {', '.join(sent)})" if sent else ""
            raise StepFailed(f"{step.kind}: {exc}{done}", {**detail(node_plan), "sent": sent}) from None
    pending = [s.kind for s in node_plan.steps if s.reboot]
    message = f"updated {', '.join(sent)}" + (f"; {', '.join(pending)} apply at the next reboot" if pending else "")
    return NodeUpdate(message, {**detail(node_plan), "sent": sent}, reboot=bool(pending))
