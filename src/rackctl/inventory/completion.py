"""Words a shell may complete, read from the inventory: device names, `@source:group` words, profile
names and device-type slugs. Each query asks only for names starting with what was typed, and at most
`LIMIT` of them, so completion stays instant on a fleet of 100,000 devices."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from rackctl.inventory.models import Device, DeviceType, Profile, Rack, Site
from rackctl.types import DeviceRole, NodeState

LIMIT = 200
# Where a node-set expression's last operand starts: after its last operator.
OPERATORS = ",&!^"


def starting(
    session: Session, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], prefix: str
) -> list[str]:
    """Stored values of `column` that start with `prefix` (matched literally, `%` and `_` included)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(column).distinct().where(column.like(f"{escaped}%", escape="\\")).order_by(column).limit(LIMIT)
    return list(session.scalars(query))


def _enum(values: type[StrEnum]) -> Callable[[Session, str], list[str]]:
    return lambda _, prefix: [v.value for v in values if v.value.startswith(prefix)]


# Group sources as targets.py resolves them; a test keeps the two in step.
GROUPS: dict[str, Callable[[Session, str], list[str]]] = {
    "rack": lambda s, p: starting(s, Rack.name, p),
    "role": _enum(DeviceRole),
    "state": _enum(NodeState),
    "profile": lambda s, p: starting(s, Profile.name, p),
    "site": lambda s, p: starting(s, Site.name, p),
    "pod": lambda s, p: starting(s, Rack.pod, p),
    "type": lambda s, p: starting(s, DeviceType.slug, p),
}


def _group_words(session: Session, word: str) -> list[str]:
    source, colon, group = word[1:].partition(":")
    if not colon:
        sources = [f"@{name}:" for name in GROUPS if name.startswith(source)]
        return sources + (["@all"] if "all".startswith(source) else [])
    found = GROUPS.get(source)
    return [f"@{source}:{name}" for name in found(session, group)] if found else []


def target_words(session: Session, incomplete: str) -> list[str]:
    """Completions of a target expression: its last operand completed, what came before it kept."""
    cut = max(incomplete.rfind(op) for op in OPERATORS) + 1
    head, word = incomplete[:cut], incomplete[cut:]
    if "[" in word:
        return []  # a range being written: nothing sensible to offer
    words = _group_words(session, word) if word.startswith("@") else starting(session, Device.name, word)
    return [head + w for w in words]


def device_words(session: Session, incomplete: str) -> list[str]:
    return starting(session, Device.name, incomplete)


def profile_words(session: Session, incomplete: str) -> list[str]:
    return starting(session, Profile.name, incomplete)


def device_type_words(session: Session, incomplete: str) -> list[str]:
    return starting(session, DeviceType.slug, incomplete)


def rack_words(session: Session, incomplete: str) -> list[str]:
    return starting(session, Rack.name, incomplete)
