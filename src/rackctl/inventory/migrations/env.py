"""Alembic environment: runs against the engine rackctl hands in (no alembic.ini needed)."""

from typing import Any

from alembic import context
from sqlalchemy.types import TypeDecorator

import rackctl.inventory.models  # noqa: F401  (registers every table)
from rackctl.inventory.db import Base


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import rackctl's own column types: render what they store.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    context.run_migrations()
