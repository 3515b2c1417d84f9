"""What every BMC-side change shares: in-service nodes left alone unless allowed, batches that stop once too
many nodes failed, a lease on every node (another run holding one gets `Busy` for that node only), and the
operation log written before anything is touched (the plan per node, then the operation's journal), each
batch's results as it ends, and "unknown" for nodes a crash or Ctrl-C abandons.

    with acting(db, actor, command, plans, "updated (firmware)") as act:
        results = act.refused + in_batches(act.free(order), rollout, act.logged(batch))
        act.finish(results, fan)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import CommandError
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.services import journal, leases, oplog
from rackctl.services.oplog import TargetResult
from rackctl.types import NodeState


@dataclass(frozen=True)
class Rollout:
    batch: int = 4  # nodes changed at once
    max_failure_rate: float = 0.25  # stop when more than this share of the nodes tried so far failed
    allow_in_service: bool = False


class Skipped(CommandError):
    """A node the run did not touch (in service, or left after the run stopped)."""


def failed(name: str, message: str) -> fanout.Result[Any]:
    return fanout.Result(name, error=Skipped(message), attempts=0)


def in_service_guard(session: Session, names: Sequence[str], allow: bool) -> tuple[list[str], list[fanout.Result[Any]]]:
    """The nodes that may be changed, and a refusal for each in-service one (unless `allow`)."""
    if allow:
        return list(names), []
    states = {d.name: d.state for d in queries.devices(session, names)}
    busy = [n for n in names if states.get(n) == NodeState.IN_SERVICE]
    refusals = [failed(n, "in service: not touched (--allow-in-service to include it)") for n in busy]
    return [n for n in names if n not in busy], refusals


def in_batches(
    units: Sequence[str],
    rollout: Rollout,
    work: Callable[[list[str]], list[fanout.Result[Any]]],
    skip: Callable[[str, str], list[fanout.Result[Any]]] | None = None,
) -> list[fanout.Result[Any]]:
    """`work` on one batch of units (nodes, or groups of nodes) after the other; once the share of failed
    nodes so far exceeds the limit, the remaining units are skipped (`skip` gives their nodes' results)."""
    skip = skip or (lambda unit, why: [failed(unit, why)])
    results: list[fanout.Result[Any]] = []
    size = max(1, rollout.batch)
    for start in range(0, len(units), size):
        results += work(list(units[start : start + size]))
        tried = [r for r in results if r.attempts]
        bad = sum(not r.ok for r in tried)
        rest = units[start + size :]
        if rest and tried and bad / len(tried) > rollout.max_failure_rate:
            why = f"not attempted: {bad} of {len(tried)} nodes failed, above the {rollout.max_failure_rate:.0%} limit"
            return results + [r for unit in rest for r in skip(unit, why)]
    return results


Work = Callable[[list[str]], list[fanout.Result[Any]]]


@dataclass
class Acting:
    """A run that holds its nodes' leases and whose intent is in the log."""

    lease: leases.Held
    log: journal.Journal
    refused: list[fanout.Result[Any]] = field(default_factory=list)

    def free(self, names: Sequence[str]) -> list[str]:
        """The names this run holds (another run's nodes left out)."""
        return [n for n in names if n not in self.lease.refused]

    def logged(self, work: Work) -> Work:
        """`work` whose results are queued for the log as each batch ends."""

        def run(group: list[str]) -> list[fanout.Result[Any]]:
            results = work(group)
            for result in results:
                self.log.add(result)
            return results

        return run

    def finish(self, results: Sequence[fanout.Result[Any]], fan: fanout.Options) -> None:
        self.log.finish(results, interrupted=fan.stop.reason if fan.stop else "")


@contextmanager
def acting(db: Database, actor: str, command: str, plans: Mapping[str, dict[str, Any]], doing: str) -> Iterator[Acting]:
    """Lease the planned nodes, log the plan of those held, open the operation's journal for all of them."""
    with leases.held(db, list(plans), doing, actor) as lease:
        refused = [lease.refusal(name) for name in plans if name in lease.refused]
        held = {n: detail for n, detail in plans.items() if n not in lease.refused}
        if held:
            record_intent(db, actor, command, held)
        with journal.opened(db, actor, command, list(plans)) as log:
            for result in refused:
                log.add(result)
            yield Acting(lease, log, refused)


def record_intent(db: Database, actor: str, command: str, plans: Mapping[str, dict[str, Any]]) -> None:
    """Write what is about to change, per node, before anything is touched."""
    started = utcnow()
    entries = [TargetResult(name, True, "planned", {"phase": "intent", **detail}) for name, detail in plans.items()]
    with db.transaction() as session:
        oplog.record(session, actor, f"{command} (intent)", entries, started_at=started, summary="intent")
