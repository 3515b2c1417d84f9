"""`rackctl bmc rotate` over many BMCs: every reference checked writable before any change, BMCs grouped by
the reference they share, batches that stop above the failure rate, the log written before and after."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rackctl import fanout
from rackctl.errors import CommandError, RackctlError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services.bmc import BmcTarget, has_bmc, load_targets
from rackctl.services.bmc import secret_store as store
from rackctl.services.bmc.accounts import Rotated, RotationFailed, rotate_one, rotate_shared
from rackctl.services.bmc.rollout import Rollout, acting, failed, in_batches, in_service_guard


@dataclass
class RotationRun:
    groups: dict[str, list[BmcTarget]] = field(default_factory=dict)  # reference -> the BMCs using it
    settled: list[fanout.Result[Any]] = field(default_factory=list)

    @property
    def nodes(self) -> list[str]:
        return [t.name for targets in self.groups.values() for t in targets]


def references(db: Database, names: Sequence[str]) -> dict[str, str | RackctlError]:
    """Each node's credential reference if rackctl can rewrite it, else why not (nothing read, nothing written)."""
    found: dict[str, str | RackctlError] = {}
    with db.transaction() as session:
        for device in queries.devices(session, names):
            ref = device.mgmt.credential_ref if device.mgmt is not None and has_bmc(device) else None
            if not ref:
                found[device.name] = CommandError("no credential reference to rotate")
                continue
            try:
                store.writable(ref)
                found[device.name] = ref
            except RackctlError as exc:
                found[device.name] = exc
    return found


def prepare(db: Database, names: Sequence[str], rollout: Rollout, shared: bool) -> RotationRun:
    with db.transaction() as session:
        allowed, refused = in_service_guard(session, names, rollout.allow_in_service)
    run = RotationRun(settled=list(refused))
    refs = references(db, allowed)
    for name, ref in refs.items():
        if isinstance(ref, RackctlError):
            run.settled.append(failed(name, f"refused before any change: {ref}"))
    with db.transaction() as session:
        targets, unreachable, _ = load_targets(session, [n for n, r in refs.items() if isinstance(r, str)])
    run.settled += unreachable
    grouped: dict[str, list[BmcTarget]] = defaultdict(list)
    for target in targets:
        grouped[str(refs[target.name])].append(target)
    for ref, group in grouped.items():
        if len(group) > 1 and not shared:
            why = f"refused before any change: {len(group)} BMCs share {ref}; --shared rotates them to one password"
            run.settled += [failed(t.name, why) for t in group]
        else:
            run.groups[ref] = group
    return run


def _rotate(ref: str, group: list[BmcTarget], length: int) -> list[fanout.Result[Any]]:
    if len(group) == 1:
        try:
            return [fanout.Result(group[0].name, rotate_one(group[0], ref, length))]
        except RackctlError as exc:
            return [fanout.Result(group[0].name, error=exc)]
    outcomes = rotate_shared(group, ref, length)
    return [
        fanout.Result(t.name, o) if isinstance(o, Rotated) else fanout.Result(t.name, error=o)
        for t, o in zip(group, outcomes, strict=True)
    ]


def execute_run(
    db: Database, actor: str, command: str, run: RotationRun, rollout: Rollout, length: int, fan: fanout.Options
) -> list[fanout.Result[Any]]:
    """Rotate reference group after group (a shared group at once), `rollout.batch` groups at a time."""
    if not run.groups:
        return run.settled
    intent = {t.name: {"reference": ref} for ref, group in run.groups.items() for t in group}

    def batch(refs: list[str]) -> list[fanout.Result[Any]]:
        done = fanout.run(lambda ref: _rotate(ref, run.groups[ref], length), refs, refs, fan)
        results: list[fanout.Result[Any]] = []
        for ref, result in zip(refs, done, strict=True):
            if result.ok and result.value is not None:
                results += result.value
            else:  # the worker itself ended (a deadline): nothing is known of these BMCs' passwords
                why = RotationFailed(f"no result ({result.message}); check which password logs in", "unknown")
                results += [fanout.Result(t.name, error=why) for t in run.groups[ref]]
        return results

    def skip(ref: str, why: str) -> list[fanout.Result[Any]]:
        return [failed(t.name, why) for t in run.groups[ref]]

    with acting(db, actor, command, intent, "given a new BMC password") as act:
        held, waiting = _whole_groups(run.groups, act.lease.refused)
        results = act.refused + waiting + in_batches(held, rollout, act.logged(batch), skip)
        act.finish(results, fan)
    return run.settled + results


def _whole_groups(
    groups: dict[str, list[BmcTarget]], busy: Mapping[str, str]
) -> tuple[list[str], list[fanout.Result[Any]]]:
    """The references whose every BMC this run holds; a shared password changes on all of its BMCs or on none,
    so the held BMCs of a group with one another run holds are left as they are."""
    whole, waiting = [], []
    for ref, group in groups.items():
        taken = [t.name for t in group if t.name in busy]
        if not taken:
            whole.append(ref)
            continue
        why = f"not rotated: its shared password is also on {', '.join(taken)}, which another run holds"
        waiting += [failed(t.name, why) for t in group if t.name not in busy]
    return whole, waiting
