"""What every BMC-side change shares: in-service nodes left alone unless allowed, batches that stop once too
many nodes failed, and the operation log written before anything is touched and again with every result."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import CommandError
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.services import oplog
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


def record_intent(db: Database, actor: str, command: str, plans: Mapping[str, dict[str, Any]]) -> datetime:
    """Write what is about to change, per node, before anything is touched; returns when that was."""
    started = utcnow()
    entries = [TargetResult(name, True, "planned", {"phase": "intent", **detail}) for name, detail in plans.items()]
    with db.transaction() as session:
        oplog.record(session, actor, f"{command} (intent)", entries, started_at=started, summary="intent")
    return started


def record_results(
    db: Database, actor: str, command: str, results: Sequence[fanout.Result[Any]], started: datetime
) -> None:
    """Write every node's result (its value's message and detail: before and after, per component)."""
    entries = [
        TargetResult(
            r.target,
            r.ok,
            r.message if not r.ok else str(getattr(r.value, "message", r.value or "")),
            dict(getattr(r.value, "detail", {}) or {}) if r.ok else dict(getattr(r.error, "detail", {}) or {}),
        )
        for r in results
    ]
    with db.transaction() as session:
        oplog.record(session, actor, command, entries, started_at=started)
