"""Target expressions as cluster operators write them, resolved against the inventory.

`gpu-r12-u[01-08]`, `@rack:r12`, `@role:gpu-node`, `@state:failed`, `@profile:h100-serving`,
`@site:fra1`, `@pod:p1`, `@type:h100-sxm-8gpu`, `@all`; `,` is a union, `&` an intersection, `!` an exclusion,
`^` a symmetric difference, applied from left to right without precedence (ClusterShell's rule).

Ranges are ClusterShell's NodeSet. Groups are not: a group's members are the names the inventory
stores, used as they are and never parsed again as node-set syntax, so a stored name holding `,` or a
space (one written before the name rule, or past it) cannot change what an expression selects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet, NodeSetException
from ClusterShell.RangeSet import RangeSet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rackctl.config import Settings, load_settings
from rackctl.errors import NotFound, ValidationError
from rackctl.inventory import queries
from rackctl.inventory.models import Device, DeviceType, Profile, Rack, Site
from rackctl.inventory.names import is_name, shown
from rackctl.types import DeviceRole, NodeState

# The most names one expression may select; settings may change it (`max_targets`).
MAX_TARGETS = Settings.max_targets
# Names per `IN (...)` query: far below SQLite's bound-variable limit (32766; 999 before 3.32).
CHUNK = 900
# Above this many names the result is sorted by a natural key instead of ClusterShell's fold order.
_FOLD_ORDER_MAX = 10_000


def _by_enum(column: Any, enum_cls: type[StrEnum]) -> Callable[[Session, str], Iterable[str]]:
    """A group source over an enum column: an unknown value is a typo, not an empty group."""

    def lookup(session: Session, group: str) -> Iterable[str]:
        known = [e.value for e in enum_cls]
        if group not in known:
            raise ValidationError(f"unknown {column.key} '{group}'", hint="known: " + ", ".join(known))
        return session.scalars(select(Device.name).where(column == group))

    return lookup


# Each group source maps a group name to the devices in it.
_SOURCES: dict[str, Callable[[Session, str], Iterable[str]]] = {
    "rack": lambda s, g: s.scalars(select(Device.name).join(Rack).where(Rack.name == g)),
    "role": _by_enum(Device.role, DeviceRole),
    "state": _by_enum(Device.state, NodeState),
    "profile": lambda s, g: s.scalars(select(Device.name).join(Profile).where(Profile.name == g)),
    "site": lambda s, g: s.scalars(select(Device.name).join(Rack).join(Site).where(Site.name == g)),
    "pod": lambda s, g: s.scalars(select(Device.name).join(Rack).where(Rack.pod == g)),
    "type": lambda s, g: s.scalars(select(Device.name).join(DeviceType).where(DeviceType.slug == g)),
}
_OPERATORS: dict[str, Callable[[set[str], set[str]], set[str]]] = {
    ",": set.union,
    "&": set.intersection,
    "!": set.difference,
    "^": set.symmetric_difference,
}


def _terms(text: str) -> list[tuple[str, str]]:
    """(operator, operand) pairs at bracket depth 0, the first with a union: `a,b[1,2]&c` -> 3 terms."""
    terms, operator, start, depth = [], ",", 0, 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0 and char in _OPERATORS:
            terms.append((operator, text[start:index].strip()))
            operator, start = char, index + 1
    terms.append((operator, text[start:].strip()))
    return terms


_BRACKET = re.compile(r"\[([^\]]*)\]")
_RANGE = re.compile(r"\s*(\d+)(?:-(\d+)(?:/(\d+))?)?\s*")


def _estimate(term: str) -> int:
    """An upper bound of the names a term makes, read from its brackets before ClusterShell builds them.

    ClusterShell keeps a range as a set of its members, so `n[1-100000000]` would take minutes and
    gigabytes before its size could be asked; this only counts, and leaves parsing to ClusterShell.
    """
    total = 0
    for operand in re.split(r"[,&!^](?![^\[]*\])", term):
        count = 1
        for body in _BRACKET.findall(operand):
            size = 0
            for item in body.split(","):
                match = _RANGE.fullmatch(item)
                if match is None:
                    return 0  # malformed: ClusterShell says how
                low, high, step = match.group(1), match.group(2) or match.group(1), match.group(3) or "1"
                size += max(0, int(high) - int(low)) // max(1, int(step)) + 1
            count *= size
        total += count
    return total


def _nodes(expression: str, term: str, limit: int) -> NodeSet:
    """A node-set term without groups, its size checked before any name is made."""
    estimate = _estimate(term)
    if estimate > limit:
        raise ValidationError(
            f"target '{expression}' names {estimate:,} nodes, more than the {limit:,} allowed",
            hint="narrow the expression, or raise max_targets in the settings",
        )
    try:
        nodes = NodeSet(term, resolver=RESOLVER_NOGROUP)
    except (NodeSetException, AssertionError) as exc:
        # NOTE(ClusterShell 1.9): a range of 1e9 or more fails an assert ("range too large"), not a NodeSetException.
        raise ValidationError(f"target '{expression}': {exc}") from None
    if len(nodes) > limit:
        raise ValidationError(
            f"target '{expression}' names {len(nodes):,} nodes, more than the {limit:,} allowed",
            hint="narrow the expression, or raise max_targets in the settings",
        )
    return nodes


def listed(nodes: NodeSet) -> list[str]:
    """`list(nodes)`, in ClusterShell's order, without its Python sort key per name.

    ClusterShell sorts each range's members with a Python key function: 80% of expanding n[1-100000].
    For the plain case (one dimension, one `%s` in the pattern, no negative index) the same order is
    a sort by text then a stable sort by length, both in C; any other case is ClusterShell's own.
    """
    # NOTE(ClusterShell 1.9-1.10): reads NodeSetBase._patterns ({pattern: RangeSet}); RangeSet is a set of
    # index strings ordered by (length, text). tests/unit/test_targets_listed.py holds it to list(NodeSet).
    patterns = getattr(nodes, "_patterns", None)
    if not isinstance(patterns, dict):
        return list(nodes)
    names: list[str] = []
    for pattern, indexes in sorted(patterns.items()):
        if not indexes:
            names.append(pattern % ())
        elif type(indexes) is RangeSet and pattern.count("%") == 1 and "%s" in pattern:
            members = list(set.__iter__(indexes))
            if min(members).startswith("-"):
                return list(nodes)
            names.extend(map(pattern.__mod__, sorted(sorted(members), key=len)))
        else:
            return list(nodes)
    return names


def _group(session: Session, expression: str, term: str) -> set[str]:
    """The stored names of a group term: `@all`, `@source:name` (name may be a range), `@name` (a rack)."""
    body = term[1:]
    if body in ("all", "*"):
        return set(session.scalars(select(Device.name)))
    source, _, group = body.rpartition(":")
    source = source or "rack"
    if source not in _SOURCES:
        raise ValidationError(
            f"target '{expression}': unknown group source '@{source}:'",
            hint="sources: " + ", ".join(f"@{s}:NAME" for s in _SOURCES) + ", @all",
        )
    if not group:
        raise ValidationError(f"target '{expression}': '{term}' names no group", hint=f"e.g. @{source}:NAME")
    return {name for one in _nodes(expression, group, MAX_TARGETS) for name in _SOURCES[source](session, one)}


def _ordered(names: set[str]) -> list[str]:
    """Natural order: ClusterShell's for names that follow the rule, then any others (never parsed)."""
    plain = [n for n in names if is_name(n)]
    others = sorted(names.difference(plain), key=natural_key)
    if len(plain) > _FOLD_ORDER_MAX:
        return sorted(plain, key=natural_key) + others
    return listed(NodeSet.fromlist(plain, resolver=RESOLVER_NOGROUP)) + others


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key that puts n2 before n10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def expand(expression: str, session: Session | None = None, limit: int | None = None) -> list[str]:
    """Expand a target expression into names, in natural order, without checking the inventory."""
    limit = limit or load_settings().max_targets
    text = expression.strip()
    if not text:
        raise ValidationError("empty target expression", hint="e.g. gpu-r12-u[01-08] or @rack:r12")
    terms = _terms(text)
    if any(not term for _, term in terms):
        raise ValidationError(f"target '{expression}': missing nodeset operand")
    if not any(term.startswith("@") for _, term in terms):
        return listed(_nodes(expression, text, limit))  # ranges only: ClusterShell does it all
    if session is None:
        # Without the inventory ClusterShell would read the machine's own groups.conf instead.
        raise ValidationError(f"target '{expression}': groups (@...) are resolved in the inventory only")
    selected: set[str] = set()
    for operator, term in terms:
        found = (
            _group(session, expression, term) if term.startswith("@") else set(listed(_nodes(expression, term, limit)))
        )
        selected = _OPERATORS[operator](selected, found)
        if len(selected) > limit:
            raise ValidationError(f"target '{expression}' selects more than the {limit:,} names allowed")
    return _ordered(selected)


def resolve(session: Session, expressions: str | Iterable[str], limit: int | None = None) -> list[str]:
    """Expand target expressions and insist every name is a device in the inventory."""
    limit = limit or load_settings().max_targets
    exprs = [expressions] if isinstance(expressions, str) else list(expressions)
    if len(exprs) == 1:
        names = expand(exprs[0], session, limit)  # one expression's names are distinct already
    else:
        names = list({name: None for expr in exprs for name in expand(expr, session, limit)})
    if not names:
        raise NotFound(f"'{' '.join(exprs)}' matches no device")
    known = existing(session, names)
    unknown = [n for n in names if n not in known] if len(known) < len(names) else []
    if unknown:
        raise NotFound(f"not in the inventory: {fold(unknown)}")
    return names


def existing(session: Session, names: list[str]) -> set[str]:
    """Which of `names` are devices, asked in chunks the database's variable limit allows."""
    if len(names) > CHUNK and (session.scalar(select(func.count()).select_from(Device)) or 0) <= 4 * len(names):
        # Most of the inventory asked for: one pass over its names costs a third of a hundred IN queries.
        return set(session.execute(select(Device.__table__.c.name)).scalars().all()).intersection(names)
    found: set[str] = set()
    for chunk in queries.in_batches(names, CHUNK):
        found.update(session.scalars(select(Device.name).where(Device.name.in_(chunk))))
    return found


def fold(names: Iterable[str], most: int = 1000) -> str:
    """Names folded back into the compact form, e.g. gpu-r12-u[01-04]; names the rule refuses are shown escaped."""
    listed = list(names)
    plain = [n for n in listed[:most] if is_name(n)]
    parts = [str(NodeSet.fromlist(plain, resolver=RESOLVER_NOGROUP))] if plain else []
    parts += [shown(n) for n in listed[:most] if not is_name(n)]
    more = f" and {len(listed) - most:,} more" if len(listed) > most else ""
    return ",".join(parts) + more
