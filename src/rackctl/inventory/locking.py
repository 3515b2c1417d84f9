"""Locks for read-then-write work that must not interleave with another process doing the same.

SQLite allows one writer at a time: `BEGIN IMMEDIATE` takes the write lock before anything is read, so
what the transaction reads stays true until it commits. PostgreSQL locks what is read: a row with
`SELECT ... FOR UPDATE`, or an advisory key for work that spans rows. Every lock here ends with the
transaction.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def write_transaction(session: Session) -> None:
    """SQLite: hold the write lock from now on (no-op elsewhere, or when this transaction already wrote)."""
    if dialect(session) != "sqlite":
        return
    connection = session.connection()
    # NOTE(pysqlite, Python < 3.12): the driver opens a transaction only at the first write, so until then
    # nothing is open and reads see each commit as it lands; once it wrote, it already holds the lock.
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_row(session: Session, row: object, attributes: list[str]) -> None:
    """Lock `row` until the transaction ends and re-read `attributes` as committed now."""
    write_transaction(session)
    session.refresh(row, attributes, with_for_update=dialect(session) == "postgresql")


def advisory(session: Session, key: int) -> None:
    """Serialise with everyone taking the same key (PostgreSQL), or with every writer (SQLite)."""
    if dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        write_transaction(session)
