"""Walked MIB columns -> rackctl's values: meters per level, outlet rows. Pure: no SNMP here.

A walk of a column gives (index suffix, value) pairs; a level's rows join its columns by row index.
The index is read by the family's table (`unit`, `number`, `_` parts, or columns holding them).
Values are judged here once: a negative integer is the MIBs' "not available" (-1), a value of the
wrong type or a decimal-digits count out of range is a problem of that point, never a zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rackctl.drivers.base import Meter
from rackctl.drivers.pdu_families import METRIC_FIELDS, Column, Family, Table, number_in

Value = int | str | None  # as drivers/snmp.py reads it: None where the agent has no such object

METRIC_NAMES = {field: name for name, field in METRIC_FIELDS.items()}
Walked = Mapping[str, Sequence[tuple[str, Value]]]  # column OID -> (index suffix, value)


@dataclass(frozen=True)
class Row:
    """One row of a level: its index, chain unit, number and name."""

    index: str
    unit: int
    number: int
    name: str


def by_row(column: Column, walked: Walked) -> dict[str, Value]:
    """A column's values by row index (only the rows of its sensor type)."""
    rows = {}
    for suffix, value in walked.get(column.oid, ()):
        row = column.row(suffix)
        if row is not None:
            rows[row] = value
    return rows


def _as_int(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def rows(family: Family, table: Table, walked: Walked) -> list[Row]:
    """Every row any column of the table answered, in index order."""
    indexes: dict[str, None] = {}
    for column in [table.unit, table.number, *table.metrics.values()]:
        if column is not None:
            indexes |= dict.fromkeys(by_row(column, walked))
    units = by_row(table.unit, walked) if table.unit else {}
    numbers = by_row(table.number, walked) if table.number else {}
    labels = by_row(table.label, walked) if table.label else {}
    found: list[Row] = []
    for index in sorted(indexes, key=lambda i: tuple(int(p) for p in i.split(".") if p.lstrip("-").isdigit())):
        parts = _parts(table.index, index)
        if parts is None:
            continue
        unit = _as_int(units.get(index)) if units else _as_int(parts.get("unit"))
        # A number column the agent left out (trimmed walks): a one-part index is the number.
        number = _as_int(numbers.get(index)) if numbers else _as_int(parts.get("number"))
        if number is None and table.index == ("_",) and index.isdigit():
            number = int(index)
        unit = family.unit_of(unit) if unit is not None else 1
        if table.sequence:
            number = 1 + sum(r.unit == unit for r in found)
        rest = "" if number is not None else str(parts.get("_", ""))
        label = labels.get(index)
        name = label if isinstance(label, str) and label else _name(number, rest, index)
        found.append(Row(index, unit, number or 0, name))
    return found


def _name(number: int | None, rest: str, index: str) -> str:
    if number is None:
        return rest or index
    return f"{rest}.{number}" if rest and rest != "0" else str(number)


def _parts(pattern: Sequence[str], index: str) -> dict[str, int | str] | None:
    """Read an index by its pattern; None when the index has another shape."""
    values = index.split(".")
    if len(values) != len(pattern) and pattern != ("_",):
        return None
    parts: dict[str, int | str] = {}
    extra = []
    for kind, value in zip(pattern, values, strict=False):
        if not value.lstrip("-").isdigit():
            return None
        if kind in ("unit", "number"):
            parts[kind] = int(value)
        else:
            extra.append(value)
    if pattern == ("_",):
        extra = values
    parts["_"] = ".".join(extra)
    return parts


def scaled(column: Column, raw: Value, digits: Value = None) -> tuple[float | None, str]:
    """(value in rackctl's unit or None, problem): -1 and absent read None; garbage is a problem."""
    if raw is None:
        return None, ""
    if column.text:
        if not isinstance(raw, str):
            return None, f"unreadable value {raw!r}"
        found = number_in(raw)
        return (None, "") if found is None else (round(found * column.scale, 4), "")
    if not isinstance(raw, int):
        return None, f"unreadable value {raw!r}"
    if raw < 0:
        return None, ""  # the MIBs' "not available"
    if column.digits:
        if not isinstance(digits, int) or not 0 <= digits <= 6:
            return None, f"unusable decimal digits {digits!r}"
        return round(raw / 10**digits * column.scale, 6), ""
    return round(raw * column.scale, 6), ""


def meters(family: Family, level: str, walked: Walked) -> list[Meter]:
    """Every metered point of one level."""
    table = family.levels[level]
    values = {field: by_row(column, walked) for field, column in table.metrics.items()}
    digits = {
        field: by_row(Column(column.digits, suffix=column.suffix), walked)
        for field, column in table.metrics.items()
        if column.digits
    }
    points = []
    for row in rows(family, table, walked):
        readings: dict[str, float | None] = {}
        problems, sources = [], {}
        for field, column in table.metrics.items():
            raw = values[field].get(row.index)
            value, problem = scaled(column, raw, digits.get(field, {}).get(row.index))
            readings[field] = value
            if problem:
                problems.append(f"{METRIC_NAMES[field]}: {problem}")
            if raw is not None:
                suffix = f".{column.suffix}" if column.suffix else ""
                sources[field] = f"{column.oid}.{row.index}{suffix}"
        meter = Meter(row.name, level=level, unit=row.unit, number=row.number, problems=tuple(problems))
        points.append(replace(meter, sources=sources, **readings))
    return points
