"""Create and upgrade the inventory schema with Alembic (the migrations are the schema's history)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from rackctl.inventory.db import Database, database_error

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision` (creating it when empty)."""
    try:
        command.upgrade(alembic_config(db), revision)
    except DBAPIError as exc:
        raise database_error(exc, db.url, db.wait) from None


def downgrade(db: Database, revision: str) -> None:
    """Take the database back to `revision` (`base`: empty); data in dropped tables and columns is lost."""
    try:
        command.downgrade(alembic_config(db), revision)
    except DBAPIError as exc:
        raise database_error(exc, db.url, db.wait) from None


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()
