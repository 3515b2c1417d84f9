"""Write to the append-only operation log and read it back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from rackctl.inventory.db import utcnow
from rackctl.inventory.models import Operation, OperationResult


@dataclass(frozen=True)
class TargetResult:
    """The outcome of one operation on one target, as recorded and shown."""

    target: str
    ok: bool
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    actor: str,
    command: str,
    results: Sequence[TargetResult],
    started_at: datetime | None = None,
    summary: str = "",
) -> Operation:
    """Append one operation with a result per target."""
    operation = Operation(
        started_at=started_at or utcnow(),
        finished_at=utcnow(),
        actor=actor,
        command=command,
        targets=[r.target for r in results],
        ok=all(r.ok for r in results),
        summary=summary or f"{sum(r.ok for r in results)}/{len(results)} ok",
    )
    session.add(operation)
    session.flush()
    # One executemany for the results: a thousand-node fan-out flushed a thousand ORM objects (~0.5 s).
    rows = [
        {"operation_id": operation.id, "target": r.target, "ok": r.ok, "message": r.message[:1024], "detail": r.detail}
        for r in results
    ]
    if rows:
        session.execute(insert(OperationResult), rows)
        session.expire(operation, ["results"])  # read back from the table if asked, not the empty new list
    return operation


def recent(session: Session, limit: int = 20, target: str | None = None) -> Iterable[Operation]:
    query = select(Operation).order_by(Operation.id.desc()).limit(limit)
    if target:
        query = query.where(
            Operation.id.in_(select(OperationResult.operation_id).where(OperationResult.target == target))
        )
    return session.scalars(query)
