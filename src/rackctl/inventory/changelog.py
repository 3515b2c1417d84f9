"""Record every inventory change from the session itself, so no write path can forget to.

After each flush the objects SQLAlchemy wrote are read with their attribute history (what a field held
before and what it holds now); changes to one object within one transaction merge into one entry
(created then edited is a create with the final values; created then deleted leaves nothing). Just
before the commit the entries are inserted, in the same transaction: a rolled-back change leaves no
entry, and a committed one always has its entry. Who acts comes from `session.info["actor"]` (else
RACKCTL_ACTOR or the login name), the command from `session.info["command"]` (else the CLI's).

Models opt out with `__changelog__ = False` (the operation log, audits, lifecycle history: records of
what happened, not inventory). ORM bulk UPDATE/DELETE statements would bypass the history and are
refused; ORM bulk INSERTs (inventory/bulk.py) are recorded from their parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cache
from itertools import count
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from rackctl import actor as actor_module
from rackctl.errors import InventoryError
from rackctl.inventory.db import Base, utcnow
from rackctl.inventory.models import Cable, Change, Device, DeviceType, Interface, Rack

_PENDING = "rackctl_changes"
_bulk_keys = count()


@dataclass
class Pending:
    """One object's change within the transaction so far."""

    action: str  # create, update, delete
    model: type[Base]
    object_id: int | None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # every known column, for naming the object


def tracked(model: type) -> bool:
    return issubclass(model, Base) and getattr(model, "__changelog__", True)


@cache  # asked once per logged row: ~440 rows a rack
def kind_of(model: type) -> str:
    """`PowerPort` -> `power-port`: the kind shown and filtered on."""
    name = model.__name__
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def known_kinds() -> list[str]:
    """Every kind the change log records, and `operation` (the operation log)."""
    models = [m.class_ for m in Base.registry.mappers if tracked(m.class_)]
    return sorted({kind_of(m) for m in models} | {"operation"})


_AS_IS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A column value as JSON keeps it."""
    if type(value) in _AS_IS:  # most values: no isinstance walk over Enum and the date types
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(obj: Base) -> Iterable[tuple[str, Any]]:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        yield attr.key, state.attrs[attr.key]


def _snapshot(obj: Base) -> dict[str, Any]:
    state = inspect(obj)
    loaded = state.dict  # keys only: an AttributeState per column (as _columns makes) costs more than the copy
    return {attr.key: plain(loaded[attr.key]) for attr in state.mapper.column_attrs if attr.key in loaded}


def _diff(obj: Base) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = {}, {}
    for key, attr in _columns(obj):
        history = attr.history
        if not history.added and not history.deleted:
            continue
        old = plain(history.deleted[0]) if history.deleted else None
        new = plain(history.added[0]) if history.added else None
        if old != new:
            before[key], after[key] = old, new
    return before, after


def _merge(pending: dict[Any, Pending], key: Any, change: Pending) -> None:
    earlier = pending.get(key)
    if earlier is None:
        pending[key] = change
        return
    earlier.values.update(change.values)
    if change.action == "delete":
        if earlier.action == "create":
            del pending[key]
            return
        earlier.action, earlier.after = "delete", {}
        earlier.before = {**change.before, **earlier.before}
        return
    if earlier.action == "create":
        earlier.after.update(change.after)
        return
    for name, new in change.after.items():
        earlier.before.setdefault(name, change.before.get(name))
        earlier.after[name] = new
    for name in [k for k in earlier.after if earlier.before.get(k) == earlier.after[k]]:
        del earlier.before[name], earlier.after[name]
    if not earlier.after:  # changed and changed back
        del pending[key]


def _pending(session: Session) -> dict[Any, Pending]:
    pending: dict[Any, Pending] = session.info.setdefault(_PENDING, {})
    return pending


def _ident(obj: Base) -> Any:
    """The primary key from the object's own state (a new object has no identity key until the flush ends)."""
    state = inspect(obj)
    values = tuple(state.dict.get(state.mapper.get_property_by_column(c).key) for c in state.mapper.primary_key)
    return values[0] if len(values) == 1 else values


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _context: Any) -> None:
    pending = _pending(session)
    for obj in session.new:
        if tracked(type(obj)):
            values, ident = _snapshot(obj), _ident(obj)
            _merge(pending, (type(obj), ident), Pending("create", type(obj), ident, {}, values, dict(values)))
    for obj in session.dirty:
        if tracked(type(obj)) and obj not in session.deleted:
            before, after = _diff(obj)
            if after:
                ident = _ident(obj)
                _merge(pending, (type(obj), ident), Pending("update", type(obj), ident, before, after, _snapshot(obj)))
    for obj in session.deleted:
        if tracked(type(obj)):
            values, ident = _snapshot(obj), _ident(obj)
            _merge(pending, (type(obj), ident), Pending("delete", type(obj), ident, values, {}, dict(values)))


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if mapper is None or not tracked(mapper.class_) or not (state.is_insert or state.is_update or state.is_delete):
        return
    if not state.is_insert:
        raise InventoryError(
            f"bulk UPDATE/DELETE of {mapper.class_.__name__} would bypass the change log",
            hint="change the objects through the session (setattr, session.delete)",
        )
    given: Any = state.parameters
    rows: list[dict[str, Any]] = list(given) if isinstance(given, list | tuple) else [dict(given or {})]
    record_inserts(state.session, mapper.class_, rows)


def record_inserts(session: Session, model: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    """Log rows inserted by a statement rather than as objects (an ORM bulk INSERT, inventory/bulk.py)."""
    if not tracked(model):
        return
    pending = _pending(session)
    for row in rows:
        # NULLs left out, as a flushed object's snapshot leaves out the columns nobody set (bulk.py fills them).
        values = {k: plain(v) for k, v in row.items() if v is not None}
        pending[("bulk", next(_bulk_keys))] = Pending("create", model, values.get("id"), {}, values, dict(values))


@event.listens_for(Session, "before_flush")
def _refuse_rewriting(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Change) and (obj in session.deleted or session.is_modified(obj)):
            raise InventoryError("the change log is append-only: entries cannot be changed or deleted")


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: capture it now
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    names = Names(session, pending.values())
    common = {
        "at": utcnow(),
        "actor": str(session.info.get("actor") or actor_module.current())[:64],
        "command": str(session.info.get("command") or actor_module.COMMAND.get())[:255],
        "request_id": uuid.uuid4().hex,
    }
    rows = [_row(change, names, common) for change in pending.values()]
    session.connection().execute(insert(Change), rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _row(change: Pending, names: Names, common: dict[str, Any]) -> dict[str, Any]:
    name, scope, peer = names.describe(change.model, change.values)
    return {
        **common,
        "action": change.action,
        "kind": kind_of(change.model),
        "object_id": change.object_id,
        "object_name": name[:255],
        "scope": scope[:128],
        "peer": peer[:128] if peer else None,
        "before": change.before or None,
        "after": change.after or None,
    }


class Names:
    """Names of the objects a change refers to by id, from this transaction's changes or the database."""

    def __init__(self, session: Session, changes: Iterable[Pending]) -> None:
        self._session = session
        self._known: dict[tuple[type, Any], dict[str, Any]] = {}
        for change in changes:
            if change.object_id is not None:
                self._known[(change.model, change.object_id)] = change.values

    def _row(self, model: type[Base], ident: Any) -> dict[str, Any]:
        if ident is None:
            return {}
        if (model, ident) not in self._known:
            table = model.__table__
            found = self._session.connection().execute(select(table).where(table.c.id == ident)).mappings().first()
            self._known[(model, ident)] = dict(found) if found else {}
        return self._known[(model, ident)]

    def device(self, ident: Any) -> str:
        return str(self._row(Device, ident).get("name") or f"device #{ident}")

    def interface(self, ident: Any) -> tuple[str, str]:
        row = self._row(Interface, ident)
        return self.device(row.get("device_id")), str(row.get("name") or f"#{ident}")

    def describe(self, model: type[Base], v: dict[str, Any]) -> tuple[str, str, str | None]:
        """The object's name, the device (rack, type ...) it belongs to, and a cable's far-end device."""
        if model is Cable:
            (a_dev, a_if), (b_dev, b_if) = self.interface(v.get("a_id")), self.interface(v.get("b_id"))
            return f"{a_dev}:{a_if} - {b_dev}:{b_if}", a_dev, b_dev
        own = str(v.get("name") or v.get("slug") or v.get("address") or f"#{v.get('id')}")
        if model is Device or not {"device_id", "pdu_id", "interface_id"} & v.keys():
            return self._top_level(model, v, own)
        if "interface_id" in v:  # an address
            return own, self.interface(v["interface_id"])[0], None
        if "pdu_id" in v:  # an outlet
            pdu = self.device(v["pdu_id"])
            return f"{pdu}:{v.get('number')}", pdu, None
        device = self.device(v["device_id"])
        return (f"{device}:{v['name']}" if v.get("name") else device), device, None

    def _top_level(self, model: type[Base], v: dict[str, Any], own: str) -> tuple[str, str, str | None]:
        if model is not Device and "device_type_id" in v:  # a device type's component
            slug = str(self._row(DeviceType, v["device_type_id"]).get("slug") or f"#{v['device_type_id']}")
            return f"{slug}:{own}", slug, None
        if model is not Device and "rack_id" in v:  # a power feed
            rack = str(self._row(Rack, v["rack_id"]).get("name") or f"#{v['rack_id']}")
            return f"{rack}:{own}", rack, None
        return own, own, None
