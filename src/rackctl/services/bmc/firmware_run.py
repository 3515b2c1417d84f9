"""`rackctl firmware update`: the whole run over many nodes.

`prepare` plans (reads every node's firmware; in-service nodes are left out unless allowed) so the CLI can
show and count exactly what will be touched before asking. `run` checks every image's sha256 before
anything is sent, starts one image server per address the BMCs reach this machine by, writes the intent
to the operation log, then updates batch after batch: each node's components in order, the host reboots
of the batch in power-sequenced waves, and a verification that every component reports its new version.
Once the share of failed nodes exceeds the limit, the remaining nodes are not attempted. One node's
failure never stops the others of its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rackctl import fanout
from rackctl.errors import ConfigError, RackctlError
from rackctl.inventory.db import Database
from rackctl.services.bmc import BmcTarget, load_targets
from rackctl.services.bmc.baseline import NodePlan
from rackctl.services.bmc.firmware import NodeUpdate, Served, StepFailed, detail, plan, update_node, wait_at_version
from rackctl.services.bmc.images import Image, checked, local_address, serving
from rackctl.services.bmc.reboots import reboot_in_waves
from rackctl.services.bmc.rollout import Rollout, acting, in_batches, in_service_guard
from rackctl.services.bmc.tasks import Waits


@dataclass
class UpdateRun:
    """The nodes that will be touched (with their plans) and a result for every node that will not."""

    plans: dict[str, NodePlan] = field(default_factory=dict)
    targets: dict[str, BmcTarget] = field(default_factory=dict)
    settled: list[fanout.Result[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class UpdateOptions:
    rollout: Rollout = field(default_factory=Rollout)
    waits: Waits = field(default_factory=Waits)
    reboot: bool = True  # reboot (power-sequenced) the nodes whose new firmware waits for one
    serve_address: str = ""  # where the image server listens; empty: the address that routes to each BMC
    cache: Path = Path("/tmp")  # where URL images are downloaded to before they are checked


def prepare(
    db: Database, names: Sequence[str], components: Sequence[str], rollout: Rollout, options: fanout.Options
) -> UpdateRun:
    with db.transaction() as session:
        allowed, refused = in_service_guard(session, names, rollout.allow_in_service)
    run = UpdateRun(settled=list(refused))
    for result in plan(db, allowed, components, options):
        if not result.ok or result.value is None:
            run.settled.append(result)
        elif not result.value.steps:
            run.settled.append(fanout.Result(result.target, NodeUpdate("at the baseline", detail(result.value))))
        else:
            run.plans[result.target] = result.value
    with db.transaction() as session:
        targets, refused_targets, _ = load_targets(session, list(run.plans))
    run.targets = {t.name: t for t in targets}
    run.settled += refused_targets
    return run


def _images(run: UpdateRun, cache: Path) -> dict[tuple[str, str], Image]:
    """Every image the plans need, checked; the first missing or mismatching one stops the run here."""
    images: dict[tuple[str, str], Image] = {}
    try:
        for node_plan in run.plans.values():
            for step in node_plan.steps:
                key = (step.wanted.image, step.wanted.sha256)
                if not step.wanted.image:
                    raise ConfigError(f"the baseline of {node_plan.node} gives no image for {step.kind}")
                if key not in images:
                    images[key] = checked(step.wanted.image, step.wanted.sha256, cache)
    except RackctlError:
        for image in images.values():
            image.close()
        raise
    return images


def execute_run(
    db: Database, actor: str, command: str, run: UpdateRun, options: UpdateOptions, fan: fanout.Options
) -> list[fanout.Result[Any]]:
    """Carry out a prepared run; every node of it gets one result, logged before and after."""
    if not run.plans:
        return run.settled
    images = _images(run, options.cache)
    try:
        addresses = {n: options.serve_address or local_address(t.endpoint.address) for n, t in run.targets.items()}
        with serving(addresses.values()) as servers:
            served = {key: Served(img, {a: s.add(img) for a, s in servers.items()}) for key, img in images.items()}
            plans = {n: detail(p) for n, p in run.plans.items() if n in run.targets}
            with acting(db, actor, command, plans, "updated (firmware)") as act:
                batch = act.logged(_Batch(db, run, served, addresses, options, fan))
                results = act.refused + in_batches(act.free(list(plans)), options.rollout, batch)
                act.finish(results, fan)
    finally:
        for image in images.values():
            image.close()
    return run.settled + results


@dataclass
class _Batch:
    """One batch: update every node at once, reboot those that need it in waves, verify."""

    db: Database
    run: UpdateRun
    served: dict[tuple[str, str], Served]
    addresses: dict[str, str]
    options: UpdateOptions
    fan: fanout.Options

    def __call__(self, group: list[str]) -> list[fanout.Result[Any]]:
        updates = fanout.run(self._update, group, group, self.fan)
        needing = [r.target for r in updates if r.ok and r.value is not None and r.value.reboot]
        rebooted: dict[str, fanout.Result[Any]] = {}
        if self.options.reboot and needing:
            waits = self.options.waits
            batch = self.options.rollout.batch
            rebooted = {r.target: r for r in reboot_in_waves(self.db, needing, self.fan, batch, waits.bmc_s)}
        return fanout.run(lambda r: self._verify(r, rebooted.get(r.target)), updates, group, self.fan)

    def _update(self, name: str) -> NodeUpdate:
        node_plan = self.run.plans[name]
        images = {s.kind: self.served[(s.wanted.image, s.wanted.sha256)] for s in node_plan.steps}
        return update_node(self.run.targets[name], node_plan, images, self.addresses[name], self.options.waits)

    def _verify(self, result: fanout.Result[Any], reboot: fanout.Result[Any] | None) -> NodeUpdate:
        if not result.ok or result.value is None:
            raise result.error or RuntimeError("no result")
        update: NodeUpdate = result.value
        node_plan = self.run.plans[result.target]
        if update.reboot and not self.options.reboot:
            return NodeUpdate(f"{update.message} (not rebooted: --no-reboot)", update.detail, reboot=True)
        if reboot is not None and not reboot.ok:
            raise StepFailed(f"{update.message}, but the reboot failed: {reboot.message}", update.detail)
        try:
            after = wait_at_version(self.run.targets[result.target], node_plan.steps, self.options.waits)
        except RackctlError as exc:
            raise StepFailed(f"{update.message}, but: {exc}", update.detail) from None
        versions = ", ".join(f"{s.kind} {s.wanted.version}" for s in node_plan.steps)
        logged = {**update.detail, **detail(node_plan, after), **_wave(reboot)}
        return NodeUpdate(f"at the baseline: {versions}", logged)


def _wave(reboot: fanout.Result[Any] | None) -> dict[str, int]:
    """Which power-sequenced reboot wave the node was in, for the log (nothing when it was not rebooted)."""
    wave = getattr(reboot.value, "detail", {}).get("wave") if reboot is not None else None
    return {"reboot_wave": wave} if isinstance(wave, int) else {}
