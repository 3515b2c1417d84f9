"""The append-only operation log: who did what to which targets, and each target's result.

An operation is written in three kinds of rows, never updated: the operation itself BEFORE anything is
touched (the intent: who, what, which targets), one result per target as each finishes, and an end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from rackctl.errors import InventoryError
from rackctl.inventory.db import Base, UtcDateTime, utcnow

# Tables that are evidence: rows are only ever added (triggers refuse UPDATE, DELETE and TRUNCATE): the
# operation log and the inventory's change log.
APPEND_ONLY_TABLES = ("operations", "operation_results", "operation_ends", "changes")


class Operation(Base):
    __tablename__ = "operations"
    __changelog__ = False  # a record of what happened, not inventory

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(Text)  # a long target list must not fail after the hardware acted
    # Who the database says wrote the row (PostgreSQL's session_user, set by a trigger the client cannot
    # override), beside the actor the client claims; NULL on SQLite, which has no database users.
    db_user: Mapped[str | None] = mapped_column(String(64), default=None)
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    ok: Mapped[bool]
    summary: Mapped[str] = mapped_column(String(512), default="")

    results: Mapped[list[OperationResult]] = relationship(
        back_populates="operation", order_by="OperationResult.id", cascade="save-update"
    )
    # Written when the operation ends; an operation without one was cut off (its process killed).
    end: Mapped[OperationEnd | None] = relationship(back_populates="operation", cascade="save-update")


class OperationResult(Base):
    __tablename__ = "operation_results"
    __changelog__ = False  # a record of what happened, not inventory

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    target: Mapped[str] = mapped_column(String(128))
    ok: Mapped[bool]
    message: Mapped[str] = mapped_column(String(1024), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    operation: Mapped[Operation] = relationship(back_populates="results")


class OperationEnd(Base):
    """How an operation ended, appended after its results (the operation row itself is the intent)."""

    __tablename__ = "operation_ends"
    __changelog__ = False  # a record of what happened, not inventory

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    ok: Mapped[bool]
    summary: Mapped[str] = mapped_column(String(512), default="")
    interrupted: Mapped[str] = mapped_column(String(16), default="")  # SIGINT, SIGTERM; empty: ran to its end

    operation: Mapped[Operation] = relationship(back_populates="end")


@event.listens_for(Session, "before_flush")
def _refuse_rewriting_history(session: Session, _context: Any, _instances: Any) -> None:
    logged = Operation | OperationResult | OperationEnd
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, logged) and (obj in session.deleted or session.is_modified(obj)):
            raise InventoryError("the operation log is append-only: entries cannot be changed or deleted")
