"""`rackctl bios diff|apply` over many nodes: compare with each node's profile, then stage (and with a
reboot apply and confirm) in batches, logged before and after, in-service nodes left alone unless allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rackctl import fanout
from rackctl.drivers.base import BiosConfig, SecureBootControl
from rackctl.errors import CommandError, RackctlError, Unsupported
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services.bmc import BmcTarget, driver_for, execute, load_targets, require, with_driver
from rackctl.services.bmc.bios import BiosDiff, diff, read_bios
from rackctl.services.bmc.reboots import reboot_in_waves
from rackctl.services.bmc.rollout import Rollout, acting, in_batches, in_service_guard
from rackctl.services.bmc.tasks import StillWaiting, Waits, poll
from rackctl.services.oob import Done

Applied = Done  # a node's BIOS change: its message and the attributes' before/after


def profiles(db: Database, names: Sequence[str]) -> dict[str, dict[str, Any] | str]:
    """Each node's profile `bios` mapping, or why it has none."""
    with db.transaction() as session:
        return {
            d.name: dict(d.profile.bios) if d.profile and d.profile.bios else "its profile sets no BIOS settings"
            for d in queries.devices(session, names)
        }


def diffs(db: Database, names: Sequence[str], options: fanout.Options) -> list[fanout.Result[BiosDiff]]:
    """Read every node's BIOS and compare it with its profile; a result per node, in order."""
    wanted = profiles(db, names)
    with db.transaction() as session:
        targets, refused, _ = load_targets(session, [n for n in names if isinstance(wanted.get(n), dict)])
    reads = {r.target: r for r in execute("bios diff", targets, with_driver(read_bios), options).results}
    reads |= {r.target: r for r in refused}
    results: list[fanout.Result[BiosDiff]] = []
    for name in names:
        profile, read = wanted.get(name), reads.get(name)
        if isinstance(profile, str):
            results.append(fanout.Result(name, error=CommandError(profile), attempts=0))
        elif read is not None and read.ok and read.value is not None and profile is not None:
            results.append(fanout.Result(name, value=diff(profile, read.value)))
        elif read is not None:
            results.append(fanout.Result(name, error=read.error, attempts=read.attempts))
    return results


def _row_detail(found: BiosDiff) -> dict[str, Any]:
    return {r.attribute: {"before": r.current, "wanted": r.wanted} for r in found.rows if r.status == "differs"}


def stage(target: BmcTarget, found: BiosDiff) -> None:
    """Write the node's changes to its settings object (and Secure Boot); they apply at the next reset."""
    with driver_for(target) as bmc:
        require(bmc, BiosConfig)
        if found.changes:
            bmc.set_bios(found.changes)
        if found.secure_boot is not None:
            if not isinstance(bmc, SecureBootControl):
                raise Unsupported("this BMC cannot set Secure Boot")
            bmc.set_secure_boot(found.secure_boot)


def confirm(target: BmcTarget, found: BiosDiff, waits: Waits) -> dict[str, Any]:
    """After the reset: poll until every changed attribute reports its wanted value; their values then."""
    names = list(found.changes)

    def applied(read: Any) -> bool:
        return all(read.state.attributes.get(n) == found.changes[n] for n in names)

    try:
        read = poll(target, read_bios, applied, waits.bmc_s, waits.poll_s)
    except StillWaiting as exc:
        raise CommandError(f"staged, rebooted, but not in effect within {waits.bmc_s:g}s ({exc})") from None
    return {n: {"before": r.current, "after": read.state.attributes.get(n)} for r in found.rows for n in [r.attribute]
            if n in found.changes}  # fmt: skip


@dataclass
class BiosRun:
    """The nodes whose BIOS will change, and a result for every node that will not."""

    diffs: dict[str, BiosDiff] = field(default_factory=dict)
    targets: dict[str, BmcTarget] = field(default_factory=dict)
    settled: list[fanout.Result[Any]] = field(default_factory=list)


def prepare(db: Database, names: Sequence[str], rollout: Rollout, options: fanout.Options) -> BiosRun:
    with db.transaction() as session:
        allowed, refused = in_service_guard(session, names, rollout.allow_in_service)
    run = BiosRun(settled=list(refused))
    for result in diffs(db, allowed, options):
        found = result.value
        if not result.ok or found is None:
            run.settled.append(result)
        elif found.problems:
            error = CommandError(f"nothing written: {'; '.join(found.problems)}")
            run.settled.append(fanout.Result(result.target, error=error, attempts=0))
        elif not found.changes and found.secure_boot is None:
            run.settled.append(fanout.Result(result.target, Applied(f"as the profile says ({found.message})")))
        else:
            run.diffs[result.target] = found
    with db.transaction() as session:
        targets, refused_targets, _ = load_targets(session, list(run.diffs))
    run.targets, run.settled = {t.name: t for t in targets}, run.settled + refused_targets
    return run


def execute_run(
    db: Database, actor: str, command: str, run: BiosRun, rollout: Rollout, reboot: bool, waits: Waits,
    fan: fanout.Options,
) -> list[fanout.Result[Any]]:  # fmt: skip
    """Stage every node's changes batch by batch; with `reboot`, reboot them in waves and confirm."""
    if not run.diffs:
        return run.settled

    def batch(group: list[str]) -> list[fanout.Result[Any]]:
        staged = fanout.run(lambda n: stage(run.targets[n], run.diffs[n]), group, group, fan)
        done = [r.target for r in staged if r.ok]
        rebooted = {r.target: r for r in reboot_in_waves(db, done, fan, rollout.batch, waits.bmc_s)} if reboot else {}
        return [_finish(r, run, rebooted.get(r.target), reboot, waits) for r in staged]

    plans = {n: _row_detail(d) for n, d in run.diffs.items() if n in run.targets}
    with acting(db, actor, command, plans, "reconfigured (BIOS)") as act:
        results = act.refused + in_batches(act.free(list(plans)), rollout, act.logged(batch))
        act.finish(results, fan)
    return run.settled + results


def _finish(
    staged: fanout.Result[Any], run: BiosRun, rebooted: fanout.Result[Any] | None, reboot: bool, waits: Waits
) -> fanout.Result[Any]:
    name, found = staged.target, run.diffs[staged.target]
    if not staged.ok:
        return staged
    count = len(found.changes) + (found.secure_boot is not None)
    if not reboot:
        return fanout.Result(
            name, Applied(f"staged {count} change(s); they apply at the next reboot", _row_detail(found))
        )
    if rebooted is None or not rebooted.ok:
        why = rebooted.message if rebooted is not None else "no reboot result"
        return fanout.Result(name, error=CommandError(f"staged {count} change(s), but the reboot failed: {why}"))
    try:
        after = confirm(run.targets[name], found, waits)
    except RackctlError as exc:
        return fanout.Result(name, error=exc)
    return fanout.Result(name, Applied(f"applied {count} change(s) and confirmed after the reboot", after))
