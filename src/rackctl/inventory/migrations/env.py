"""Alembic environment: runs against the engine rackctl hands in (no alembic.ini needed).

On SQLite, changing a table means rebuilding it (create, copy, drop, rename). With foreign keys enforced,
dropping the old table deletes every row that refers to it through ON DELETE CASCADE, so a migration would
silently empty the tables below it. Foreign keys are switched off for the migration (SQLite ignores that
pragma inside a transaction, so it is set before the transaction begins) and every reference is checked with
`PRAGMA foreign_key_check` before the transaction commits. Python's sqlite3 would commit before each DDL
statement on its own; for the migration rackctl opens and commits the transaction itself, so a migration
that fails half-way changes nothing.
"""

from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator

import rackctl.inventory.models  # noqa: F401  (registers every table)
from rackctl.errors import InventoryError
from rackctl.inventory.db import Base


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import rackctl's own column types: render what they store.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _sqlite_migration_mode(connection: Connection, migrating: bool) -> None:
    # On the DBAPI connection, outside any transaction, where SQLite honours the pragma.
    raw = connection.connection.driver_connection
    raw.execute(f"PRAGMA foreign_keys={'OFF' if migrating else 'ON'}")
    raw.isolation_level = None if migrating else ""  # None: no implicit BEGIN/COMMIT around DDL


def _check_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise InventoryError(
            f"the migration would leave {len(broken)} broken references (in {', '.join(tables)}); nothing was changed"
        )


def run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        render_item=render_item,
        compare_type=True,
    )
    if not sqlite:
        with connection.begin():
            context.run_migrations()
        return
    _sqlite_migration_mode(connection, migrating=True)
    try:
        with connection.begin():
            connection.exec_driver_sql("BEGIN")
            context.run_migrations()
            _check_references(connection)
    finally:
        _sqlite_migration_mode(connection, migrating=False)


with context.config.attributes["engine"].connect() as conn:
    run(conn)
