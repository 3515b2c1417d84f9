"""Lookups that every command needs, failing with NotFound instead of returning None."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from rackctl.errors import NotFound
from rackctl.inventory.db import Base
from rackctl.inventory.models import Device, DeviceType, Profile, Rack, Site

T = TypeVar("T", bound=Base)
V = TypeVar("V")

IN_BATCH = 500  # values in one `IN (...)`: far below SQLite's bound-parameter limit


def in_batches(values: Sequence[V], size: int = IN_BATCH) -> Iterator[Sequence[V]]:
    """`values` in slices one `IN (...)` query can take on every database."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _one(session: Session, model: type[T], column: str, value: str, what: str, hint: str | None = None) -> T:
    found = session.scalars(select(model).where(getattr(model, column) == value)).one_or_none()
    if found is None:
        raise NotFound(f"no {what} named '{value}'", hint=hint)
    return found


def site(session: Session, name: str) -> Site:
    return _one(session, Site, "name", name, "site", "rackctl site list")


def rack(session: Session, name: str) -> Rack:
    return _one(session, Rack, "name", name, "rack", "rackctl rack list")


def device(session: Session, name: str) -> Device:
    return _one(session, Device, "name", name, "device", "rackctl device list")


def device_type(session: Session, slug: str) -> DeviceType:
    return _one(session, DeviceType, "slug", slug, "device type", "rackctl devicetype list")


def profile(session: Session, name: str) -> Profile:
    return _one(session, Profile, "name", name, "profile", "rackctl profile list")


def devices(session: Session, names: Iterable[str], *load: ExecutableOption) -> list[Device]:
    """Devices in the order the names were given (names already resolved against the inventory); `load`:
    loader options such as selectinload(Device.mgmt), so a fan-out does not query once per device."""
    wanted = list(names)
    found = {d.name: d for d in session.scalars(select(Device).where(Device.name.in_(wanted)).options(*load))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound(f"not in the inventory: {', '.join(missing)}")
    return [found[n] for n in wanted]
