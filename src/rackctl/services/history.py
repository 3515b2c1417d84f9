"""Read the change log back: per object, or one entry per transaction, merged with the operation log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rackctl.inventory.models import Change, Operation, OperationResult
from rackctl.services import oplog

OPERATION = "operation"  # the --kind that selects the operation log


@dataclass(frozen=True)
class Filter:
    """Which entries to show: by device (or rack, site ...) name, by kind, by action."""

    target: str | None = None
    kind: str | None = None
    action: str | None = None
    limit: int = 20

    @property
    def detailed(self) -> bool:
        """Whether each changed object gets its own entry (otherwise one per transaction)."""
        return bool(self.target or (self.kind and self.kind != OPERATION) or self.action)


def describe(change: Change) -> str:
    """`serial: SN1 -> SN2; state: planned -> racked`, or what was created or deleted."""
    if change.action == "update":
        before, after = change.before or {}, change.after or {}
        return "; ".join(f"{k}: {_shown(before.get(k))} -> {_shown(after.get(k))}" for k in after)
    return f"{change.action}d"


def _shown(value: Any) -> str:
    return "(none)" if value is None or value == "" else str(value)


def change_entry(change: Change) -> dict[str, Any]:
    return {
        "type": "change",
        "id": change.id,
        "at": change.at,
        "actor": change.actor,
        "command": change.command,
        "request_id": change.request_id,
        "action": change.action,
        "kind": change.kind,
        "object": change.object_name,
        "scope": change.scope,
        "before": change.before,
        "after": change.after,
        "summary": f"{change.kind} {change.object_name}: {describe(change)}",
    }


def _changes_query(flt: Filter) -> Any:
    query = select(Change)
    if flt.target:
        query = query.where(
            or_(Change.scope == flt.target, Change.peer == flt.target, Change.object_name == flt.target)
        )
    if flt.kind:
        query = query.where(Change.kind == flt.kind)
    if flt.action:
        query = query.where(Change.action == flt.action)
    return query


def changes(session: Session, flt: Filter) -> list[dict[str, Any]]:
    """One entry per changed object, newest first."""
    found = session.scalars(_changes_query(flt).order_by(Change.id.desc()).limit(flt.limit))
    return [change_entry(c) for c in found]


def requests(session: Session, limit: int) -> list[dict[str, Any]]:
    """One entry per transaction that changed the inventory, newest first, with what it changed."""
    newest = (
        select(Change.request_id, func.max(Change.id).label("last"))
        .group_by(Change.request_id)
        .order_by(func.max(Change.id).desc())
        .limit(limit)
    )
    wanted = [row.request_id for row in session.execute(newest)]
    found: dict[str, list[Change]] = {r: [] for r in wanted}
    for change in session.scalars(select(Change).where(Change.request_id.in_(wanted)).order_by(Change.id)):
        found[change.request_id].append(change)
    return [_request_entry(found[r]) for r in wanted]


def _request_entry(group: list[Change]) -> dict[str, Any]:
    first = group[0]
    if len(group) == 1:
        summary = f"{first.kind} {first.object_name}: {describe(first)}"
    else:
        summary = "; ".join(
            f"{action}d " + ", ".join(_plural(n, kind) for kind, n in counts.items())
            for action, counts in _counts(group).items()
        )
    return {
        "type": "change",
        "at": first.at,
        "actor": first.actor,
        "command": first.command,
        "request_id": first.request_id,
        "summary": summary,
        "changes": [change_entry(c) for c in group],
    }


def _counts(group: list[Change]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for change in group:
        out.setdefault(change.action, Counter())[change.kind] += 1
    return out


def operations(session: Session, flt: Filter) -> list[dict[str, Any]]:
    """Operation log entries (out-of-band runs, pushes, provisioning), newest first."""
    query = select(Operation).order_by(Operation.id.desc()).limit(flt.limit)
    if flt.target:
        targets = select(OperationResult.operation_id).where(OperationResult.target == flt.target)
        query = query.where(Operation.id.in_(targets))
    return [operation_entry(op) for op in session.scalars(query)]


def operation_entry(op: Operation) -> dict[str, Any]:
    """An operation as the log shows it: how it ended, or UNFINISHED (ok None) when its process died,
    with every target of its intent that has no result shown as unknown."""
    end = oplog.shown(op)
    return {
        "type": OPERATION,
        "id": op.id,
        "at": op.started_at,
        "started_at": op.started_at,
        "finished_at": end.finished_at,
        "actor": op.actor,
        "db_user": op.db_user,
        "command": op.command,
        "ok": end.ok,
        "summary": end.summary,
        "interrupted": end.interrupted,
        "targets": list(op.targets or []),
        "results": [{"target": r.target, "ok": r.ok, "message": r.message} for r in op.results]
        + [{"target": t, "ok": False, "message": "unknown: no result recorded"} for t in end.unrecorded],
    }


def timeline(session: Session, flt: Filter) -> list[dict[str, Any]]:
    """Operations and inventory changes together, newest first, at most `flt.limit` entries."""
    entries: list[dict[str, Any]] = []
    if flt.kind in (None, OPERATION) and not flt.action:
        entries += operations(session, flt)
    if flt.kind != OPERATION:
        entries += changes(session, flt) if flt.detailed else requests(session, flt.limit)
    entries.sort(key=lambda e: _sort_key(e["at"]), reverse=True)
    return entries[: flt.limit]


def _sort_key(at: datetime) -> float:
    return at.timestamp()


def _plural(n: int, kind: str) -> str:
    if n == 1:
        return f"1 {kind}"
    return f"{n} {kind}es" if kind.endswith("s") else f"{n} {kind}s"
