"""Rows planned in memory and written in bulk: one INSERT per table instead of one per object.

The ORM's unit of work inserts one row per statement on SQLite (it needs each new primary key back, and
SQLite's RETURNING gives no order for a multi-row INSERT) and keeps state and history for every object;
for the hundreds of interfaces, outlets and cables of a rack that cost more than everything else. A
`Part` is a row's values, with other rows (Parts, or ORM objects already flushed) as references; `write`
gives every Part its id first, has the model guard check every value and the change log record every row
(guard.py, changelog.py), then inserts each table's rows with one Core INSERT (executemany): the ORM's
bulk INSERT would walk every row through its per-object insert planning again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from rackctl.inventory import changelog, guard
from rackctl.inventory.db import Base


@dataclass(eq=False, slots=True)
class Part:
    """One row to insert: its model, its values (a reference is another Part or a flushed object), its id."""

    model: type[Base]
    values: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value


def allocate_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """`count` new primary keys for `model`'s table, taken in this transaction."""
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(model.__tablename__, "id")
        return list(session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
    # NOTE(SQLite): without AUTOINCREMENT a new rowid is max(rowid) + 1, so taking the next ones here is
    # what SQLite would do. It is safe: writers are serialised, and a transaction whose snapshot another
    # writer changed cannot write at all (SQLITE_BUSY_SNAPSHOT), so no one takes these ids before we insert.
    top = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(top + 1, top + 1 + count))


@cache
def _fill(model: type[Base]) -> dict[str, Any]:
    """Each column's value when a Part does not give it: its scalar default, else NULL (callables left to SQL)."""
    filled: dict[str, Any] = {}
    for column in model.__table__.columns:
        default = column.default
        if default is None:
            filled[column.key] = None
        elif getattr(default, "is_scalar", False):
            filled[column.key] = getattr(default, "arg", None)
    return filled


def _resolved(value: Any) -> Any:
    """A reference as the id it stands for (a Part's, or a flushed object's); any other value as it is."""
    if isinstance(value, Part):
        return value.id
    return value.id if isinstance(value, Base) and hasattr(value, "id") else value


def _depth(part: Part) -> int:
    """How many rows of its own table this row refers to through a chain (a bond's member: 1)."""
    refs = [v for v in part.values.values() if isinstance(v, Part) and v.model is part.model]
    return 1 + max(map(_depth, refs)) if refs else 0


def write(session: Session, parts: Iterable[Part]) -> None:
    """Insert every Part, referenced tables first, one INSERT per table (and self-reference depth)."""
    by_model: dict[type[Base], list[Part]] = defaultdict(list)
    for part in parts:
        by_model[part.model].append(part)
    for model, rows in by_model.items():
        for part, ident in zip(rows, allocate_ids(session, model, len(rows)), strict=True):
            part.id = ident
    order = {table.name: n for n, table in enumerate(Base.metadata.sorted_tables)}
    for model in sorted(by_model, key=lambda m: order[m.__tablename__]):
        layers: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for part in by_model[model]:
            row = {**_fill(model), **{k: _resolved(v) for k, v in part.values.items()}, "id": part.id}
            layers[_depth(part)].append(row)
        for depth in sorted(layers):  # a row's own-table references are inserted before it (foreign keys)
            guard.check_rows(model, layers[depth])
            changelog.record_inserts(session, model, layers[depth])
            session.connection().execute(insert(Base.metadata.tables[model.__tablename__]), layers[depth])
