"""`switch push` as an operation: MLAG peers one after the other, leased, logged before anything is applied.

Both switches of an MLAG pair carry the same nodes' bonds: a configuration that breaks both at once cuts
those nodes off. So a pair is pushed one peer at a time: the first switch of every pair (by name), with
every unpaired switch, goes first; a second peer goes only once its partner's push was applied and
verified (`ops.push_one` verifies and rolls back on failure). A failed first peer holds its partner back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from rackctl import fanout
from rackctl.errors import CommandError
from rackctl.inventory.db import Database
from rackctl.services import journal, leases
from rackctl.services.switch.ops import PushOutcome, SwitchJob


def in_turns(jobs: Sequence[SwitchJob]) -> tuple[list[SwitchJob], list[SwitchJob]]:
    """(first turn, second turn): the second holds each switch whose MLAG peer is pushed in the first."""
    names = {job.name for job in jobs}
    second = [j for j in jobs if j.mlag_peer in names and j.mlag_peer < j.name]
    later = {j.name for j in second}
    return [j for j in jobs if j.name not in later], second


def push_all(
    jobs: Sequence[SwitchJob], push_one: Callable[[SwitchJob], PushOutcome], options: fanout.Options
) -> list[fanout.Result[PushOutcome]]:
    """Push in two turns; a second peer whose partner failed is not pushed. Results in the order of `jobs`."""
    first, second = in_turns(jobs)
    done = {r.target: r for r in fanout.run(push_one, first, [j.name for j in first], options)}
    failed = {name for name, r in done.items() if not r.ok}
    held = [j for j in second if j.mlag_peer in failed]
    go = [j for j in second if j.mlag_peer not in failed]
    done |= {r.target: r for r in fanout.run(push_one, go, [j.name for j in go], options)}
    for job in held:
        why = f"not pushed: its MLAG peer {job.mlag_peer} failed, and the pair must keep one working switch"
        done[job.name] = fanout.Result(job.name, error=CommandError(why), attempts=0)
        if options.progress is not None:
            options.progress(done[job.name])
    return [done[j.name] for j in jobs]


def push(
    db: Database,
    actor: str,
    command: str,
    jobs: Sequence[SwitchJob],
    push_one: Callable[[SwitchJob], PushOutcome],
    options: fanout.Options,
) -> list[fanout.Result[Any]]:
    """Lease the switches, log the intent, push them pair-safely; one logged result per switch."""
    names = [j.name for j in jobs]
    with leases.held(db, names, "pushed", actor) as lease, journal.opened(db, actor, command, names) as log:
        refused = [lease.refusal(name) for name in names if name in lease.refused]
        for result in refused:
            log.add(result)
        free = [j for j in jobs if j.name not in lease.refused]
        done = {r.target: r for r in [*refused, *push_all(free, push_one, log.observing(replace(options, retries=0)))]}
        results = [done[name] for name in names]
        log.finish(results, interrupted=options.stop.reason if options.stop else "")
    return results
