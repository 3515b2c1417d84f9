"""Write to the append-only operation log and read it back.

An operation is written as it happens, in rows that are only ever added: `begin` records the intent
(who, the command, every target it will act on) before anything is touched, `append` adds results as
targets finish, and `end` closes it. An operation without an end was cut off: its process died.
`record` writes a finished operation in one go, for work that touches nothing until it is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from rackctl import fanout
from rackctl.errors import NotStarted, Unknown
from rackctl.inventory.db import utcnow
from rackctl.inventory.models import Operation, OperationEnd, OperationResult

UNKNOWN, NOT_STARTED = "unknown", "not started"


@dataclass(frozen=True)
class TargetResult:
    """The outcome of one operation on one target, as recorded and shown."""

    target: str
    ok: bool
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def target_result(result: fanout.Result[Any]) -> TargetResult:
    """A fan-out result as the log keeps it; interrupted targets say whether they were touched."""
    detail = getattr(result.value if result.ok else result.error, "detail", None)  # a failure's too (StepFailed)
    detail = dict(detail) if isinstance(detail, dict) else {}
    if isinstance(result.error, Unknown):
        detail["outcome"] = UNKNOWN
    elif isinstance(result.error, NotStarted):
        detail["outcome"] = NOT_STARTED
    return TargetResult(result.target, result.ok, _message(result), detail)


def _message(result: fanout.Result[Any]) -> str:
    if not result.ok:
        return result.message
    value: Any = result.value
    if value is None:
        return ""
    return str(value.message) if hasattr(value, "message") else str(value)


def summary_of(results: Sequence[TargetResult]) -> str:
    unknown = sum(r.detail.get("outcome") == UNKNOWN for r in results)
    idle = sum(r.detail.get("outcome") == NOT_STARTED for r in results)
    extra = (f", {unknown} unknown" if unknown else "") + (f", {idle} not started" if idle else "")
    return f"{sum(r.ok for r in results)}/{len(results)} ok{extra}"


def begin(
    session: Session, actor: str, command: str, targets: Sequence[str], started_at: datetime | None = None
) -> int:
    """Record the intent to act on `targets`; returns the operation's id for its results and end."""
    # ok/summary of this row are written before anything happened: the end row says how it went.
    return _operation(session, actor, command, targets, started_at, False, f"started on {len(targets)} target(s)")


def _operation(
    session: Session,
    actor: str,
    command: str,
    targets: Sequence[str],
    started_at: datetime | None,
    ok: bool,
    summary: str,
) -> int:
    started = started_at or utcnow()
    operation = Operation(
        started_at=started,
        finished_at=utcnow(),
        actor=actor,
        command=command,
        targets=list(targets),
        ok=ok,
        summary=summary[:512],
    )
    session.add(operation)
    session.flush()
    return operation.id


def append(session: Session, operation_id: int, results: Iterable[TargetResult]) -> None:
    # One executemany: a thousand-node fan-out flushed a thousand ORM objects (~0.5 s).
    rows = [
        {"operation_id": operation_id, "target": r.target, "ok": r.ok, "message": r.message[:1024], "detail": r.detail}
        for r in results
    ]
    if rows:
        session.execute(insert(OperationResult), rows)


def end(session: Session, operation_id: int, ok: bool, summary: str, interrupted: str = "") -> None:
    session.add(
        OperationEnd(
            operation_id=operation_id, finished_at=utcnow(), ok=ok, summary=summary[:512], interrupted=interrupted
        )
    )
    session.flush()


def record(
    session: Session,
    actor: str,
    command: str,
    results: Sequence[TargetResult],
    started_at: datetime | None = None,
    summary: str = "",
) -> int:
    """Append one finished operation with a result per target; returns its id."""
    ok, summary = all(r.ok for r in results), summary or summary_of(results)
    operation_id = _operation(session, actor, command, [r.target for r in results], started_at, ok, summary)
    append(session, operation_id, results)
    end(session, operation_id, ok, summary)
    return operation_id


def recent(session: Session, limit: int = 20, target: str | None = None) -> Iterable[Operation]:
    query = (
        select(Operation)
        .options(selectinload(Operation.results), selectinload(Operation.end))
        .order_by(Operation.id.desc())
        .limit(limit)
    )
    if target:
        query = query.where(
            Operation.id.in_(select(OperationResult.operation_id).where(OperationResult.target == target))
        )
    return session.scalars(query)


@dataclass(frozen=True)
class Shown:
    """An operation as `rackctl log` shows it: its end if it has one, else what is known of it."""

    ok: bool | None  # None: it never ended (its process was killed)
    finished_at: datetime | None
    summary: str
    interrupted: str
    unrecorded: list[str]  # targets of the intent with no result: their state is unknown


def shown(operation: Operation) -> Shown:
    recorded = {r.target for r in operation.results}
    missing = [t for t in operation.targets or [] if t not in recorded]
    if operation.end is not None:
        e = operation.end
        return Shown(e.ok, e.finished_at, e.summary, e.interrupted, missing)
    summary = f"UNFINISHED: {len(recorded)} result(s) recorded, {len(missing)} target(s) in an unknown state"
    return Shown(None, None, summary, "", missing)
