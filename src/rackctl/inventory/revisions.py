"""Which schema revision a database is at, compared with the revisions this rackctl knows.

Read from the migration files' headers without importing Alembic, because every command checks it
before touching the inventory (Alembic itself is loaded only to migrate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from rackctl.inventory.db import Database, database_error

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r"^revision\s*(?::[^=]+)?=\s*[\"'](?P<id>[\w-]+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(?:[\"'](?P<id>[\w-]+)[\"']|None)", re.M)

SchemaState = Literal["empty", "current", "behind", "newer"]


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    state: SchemaState


@cache
def known_revisions() -> tuple[str, ...]:
    """This rackctl's revisions, oldest first (the migrations form one line)."""
    parents: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        source = path.read_text()
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision and down:
            parents[revision["id"]] = down["id"]
    children = {parent: child for child, parent in parents.items()}
    order: list[str] = []
    step = children.get(None)
    while step is not None:
        order.append(step)
        step = children.get(step)
    return tuple(order)


def head() -> str:
    return known_revisions()[-1]


def current(db: Database) -> str | None:
    """The revision stamped in the database, or None for a database rackctl never initialised."""
    try:
        with db.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        raise database_error(exc, db.url, db.wait) from None


def schema_status(db: Database) -> SchemaStatus:
    revision = current(db)
    known = known_revisions()
    if revision is None:
        state: SchemaState = "empty"
    elif revision == known[-1]:
        state = "current"
    elif revision in known:
        state = "behind"
    else:
        state = "newer"
    return SchemaStatus(revision, known[-1], state)
