"""Target expressions as cluster operators write them, resolved against the inventory.

`gpu-r12-u[01-08]`, `@rack:r12`, `@role:gpu-node`, `@state:failed`, `@profile:h100-serving`,
`@site:fra1`, `@type:h100-sxm-8gpu`, `@all`; `,` is a union, `&` an intersection, `!` an exclusion,
`^` a symmetric difference (ClusterShell's NodeSet syntax).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet, NodeSetException
from ClusterShell.NodeUtils import GroupResolver, GroupResolverError, GroupResolverSourceError, GroupSource
from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import NotFound, ValidationError
from rackctl.inventory.models import Device, DeviceType, Profile, Rack, Site
from rackctl.types import DeviceRole, NodeState


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
    "type": lambda s, g: s.scalars(select(Device.name).join(DeviceType).where(DeviceType.slug == g)),
}


class _InventoryGroups(GroupSource):  # type: ignore[misc]
    def __init__(self, session: Session, name: str) -> None:
        super().__init__(name)
        self._session = session
        self._lookup = _SOURCES[name]

    def resolv_map(self, group: str) -> list[str]:
        return list(self._lookup(self._session, group))

    def resolv_list(self) -> list[str]:
        return []

    def resolv_all(self) -> list[str]:
        return list(self._session.scalars(select(Device.name)))


def _resolver(session: Session) -> GroupResolver:
    resolver = GroupResolver()
    for name in _SOURCES:
        resolver.add_source(_InventoryGroups(session, name))
    # `@all` and bare `@name` use the first source's resolv_all / resolv_map
    resolver.default_source_name = "rack"
    return resolver


# `@all` anywhere in an expression (ClusterShell spells it `@*`), not only at its start.
_ALL = re.compile(r"(?<![\w@:-])@all(?![\w-])")


def expand(expression: str, session: Session | None = None) -> list[str]:
    """Expand a target expression into names, in natural order, without checking the inventory."""
    text = expression.strip()
    if not text:
        raise ValidationError("empty target expression", hint="e.g. gpu-r12-u[03,11] or @rack:r12")
    text = _ALL.sub("@*", text)
    if session is None and "@" in text:
        # Without the inventory ClusterShell would read the machine's own groups.conf instead.
        raise ValidationError(f"target '{expression}': groups (@...) are resolved in the inventory only")
    try:
        nodes = NodeSet(text, resolver=_resolver(session) if session else RESOLVER_NOGROUP)
    except GroupResolverSourceError as exc:
        raise ValidationError(
            f"target '{expression}': unknown group source '@{exc}:'",
            hint="sources: " + ", ".join(f"@{s}:NAME" for s in _SOURCES) + ", @all",
        ) from None
    except (NodeSetException, GroupResolverError) as exc:
        raise ValidationError(f"target '{expression}': {exc}") from None
    return list(nodes)


def resolve(session: Session, expressions: str | Iterable[str]) -> list[str]:
    """Expand target expressions and insist every name is a device in the inventory."""
    exprs = [expressions] if isinstance(expressions, str) else list(expressions)
    names: list[str] = []
    for expr in exprs:
        names.extend(n for n in expand(expr, session) if n not in names)
    if not names:
        raise NotFound(f"'{' '.join(exprs)}' matches no device")
    known = set(session.scalars(select(Device.name).where(Device.name.in_(names))))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise NotFound(f"not in the inventory: {fold(unknown)}")
    return names


def fold(names: Iterable[str]) -> str:
    """Names folded back into the compact form, e.g. gpu-r12-u[01-04]."""
    return str(NodeSet.fromlist(list(names)))
