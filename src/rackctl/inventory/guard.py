"""The name rule at the model: no code path, present or future, stores a name the rule refuses.

Importers and commands check names first, so their errors name the file, line or CSV row; this guard
is the backstop for everything else. It checks each guarded attribute when it is set (constructors
included) and the values of ORM bulk INSERT/UPDATE statements, which skip attribute events. Raw SQL
(`text()`, Core statements on tables) is out of its reach: inventory code does not write that way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.dml import Insert, Update

from rackctl.inventory.models.device import Device, ManagementEndpoint, PowerPort, StateChange
from rackctl.inventory.models.devicetype import (
    DeviceType,
    DeviceTypeConsolePort,
    DeviceTypeInterface,
    DeviceTypeModuleBay,
    DeviceTypeOutlet,
    DeviceTypePowerPort,
)
from rackctl.inventory.models.network import Cable, Interface, IpAddress
from rackctl.inventory.models.power import PduOutlet, PowerFeed
from rackctl.inventory.models.profile import PROFILE_FIELDS, Profile
from rackctl.inventory.models.site import Rack, Site
from rackctl.inventory.names import (
    check_address,
    check_interface,
    check_name,
    check_text,
    check_token,
)

Check = Callable[[Any, str], Any]


def _optional(check: Check) -> Check:
    """Let None and "" through: the column is optional, or empty means not known yet."""

    def checked(value: Any, field: str) -> Any:
        return value if value is None or value == "" else check(value, field)

    return checked


def _text(limit: int) -> Check:
    return _optional(partial(check_text, limit=limit))


def _vlan_names(extra: Any, field: str) -> Any:
    vlans = extra.get("vlans") if isinstance(extra, Mapping) else None
    if isinstance(vlans, Mapping):
        for name in vlans:
            check_name(str(name), f"{field} VLAN name")
    return extra


_NAME, _INTERFACE, _TOKEN = check_name, check_interface, _optional(check_token)
_COMPONENTS = (DeviceTypeInterface, DeviceTypePowerPort, DeviceTypeOutlet, DeviceTypeConsolePort)
_PROFILE_TEXT = [f for f in PROFILE_FIELDS if Profile.__table__.columns[f].type.python_type is str]

# model -> attribute -> check. The label in errors is "<table row> <attribute>", e.g. "device name".
GUARDED: dict[type, dict[str, Check]] = {
    Site: {"name": _NAME, "description": _text(255)},
    Rack: {"name": _NAME, "template": _optional(check_name)},
    PowerFeed: {"name": _NAME},
    Device: {"name": _NAME, "serial": _TOKEN, "asset_tag": _TOKEN, "platform": _optional(check_name)},
    ManagementEndpoint: {"address": check_address, "username": _TOKEN},
    StateChange: {"reason": _text(512), "actor": _text(64)},
    Profile: {
        "name": _NAME,
        "description": _text(255),
        "extra": _vlan_names,
        **{f: _TOKEN for f in _PROFILE_TEXT},
    },
    DeviceType: {
        "slug": partial(check_name, limit=100),
        "manufacturer": _text(100),
        "model": _text(100),
        "airflow": _TOKEN,
        "gpu_model": _text(64),
        "source": _text(512),
    },
    **{c: {"name": _INTERFACE, "type": _TOKEN} for c in _COMPONENTS},
    DeviceTypeModuleBay: {"name": _text(64), "position": _text(32)},
    Interface: {"name": _INTERFACE, "description": _text(255), "type": _TOKEN, "breakout": _TOKEN},
    PowerPort: {"name": _INTERFACE, "type": _TOKEN},
    PduOutlet: {"name": _optional(check_interface), "type": _TOKEN, "phase": _optional(check_name)},
    Cable: {"kind": _NAME, "label": _text(64)},
    IpAddress: {"address": check_address},
}


def _label(model: type, attribute: str) -> str:
    table = str(getattr(model, "__tablename__", model.__name__)).rstrip("s").replace("_", " ")
    return f"{table} {attribute.replace('_', ' ')}"


def _listen(model: type, attribute: str, check: Check) -> None:
    label = _label(model, attribute)

    def on_set(_target: Any, value: Any, _old: Any, _initiator: Any) -> None:
        check(value, label)

    event.listen(getattr(model, attribute), "set", on_set)


def check_values(model: type, values: Mapping[str, Any]) -> None:
    """Check a row's values given as a mapping (a bulk statement's parameters)."""
    for attribute, check in GUARDED.get(model, {}).items():
        if attribute in values:
            value = values[attribute]
            if value is None or isinstance(value, str | int | float):
                _passes(model, attribute, value)
            else:
                check(value, _label(model, attribute))


@lru_cache(maxsize=8192, typed=True)
def _passes(model: type, attribute: str, value: str | float | None) -> None:
    """The check of one plain value, remembered once passed (a refusal raises, so is never remembered):
    a bulk write of a hundred racks repeats the same port and type names thousands of times."""
    GUARDED[model][attribute](value, _label(model, attribute))


def _rows(state: ORMExecuteState) -> Iterable[Mapping[str, Any]]:
    params = state.parameters
    if isinstance(params, Mapping):
        yield params
    elif params:
        yield from (p for p in params if isinstance(p, Mapping))
    statement = state.statement
    has_values = getattr(statement, "_values", None) or getattr(statement, "_multi_values", None)
    if has_values and isinstance(statement, Insert | Update):
        yield statement.compile().params


def check_rows(model: type, rows: Iterable[Mapping[str, Any]]) -> None:
    """Check the rows of a bulk INSERT or UPDATE of `model` (keys: attribute names or columns)."""
    if model in GUARDED:
        for row in rows:
            check_values(model, {str(getattr(k, "key", k)): v for k, v in row.items()})


def _guard_bulk(state: ORMExecuteState) -> None:
    if isinstance(state.statement, Insert | Update) and state.bind_mapper is not None:
        check_rows(state.bind_mapper.class_, _rows(state))


for _model, _attributes in GUARDED.items():
    for _attribute, _check in _attributes.items():
        _listen(_model, _attribute, _check)
# First among the session's statement hooks: a refused value is refused before anything else looks at it.
event.listen(Session, "do_orm_execute", _guard_bulk, insert=True)
