"""`lldpctl -f json` (lldpd 0.9 to 1.0.x): neighbours per local interface.

NOTE(lldpd, all versions): the `json` format folds lists of one into objects: one neighbour gives
{"interface": {"eth0": {...}}}, several give {"interface": [{"eth0": {...}}, {"eth1": {...}}]},
and one chassis is {"chassis": {"NAME": {...}}}. Some builds emit "name" inside the entry instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rackctl.drivers.hostfacts.model import LldpNeighbor


def _entries(interfaces: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    items = interfaces if isinstance(interfaces, list) else [interfaces]
    for item in items:
        if not isinstance(item, dict):
            continue
        if "name" in item and ("chassis" in item or "port" in item):
            yield str(item["name"]), item
            continue
        for name, entry in item.items():
            if isinstance(entry, dict):
                yield str(name), entry


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _value(node: Any, key: str) -> str:
    found = _first(node.get(key)) if isinstance(node, dict) else None
    if isinstance(found, dict):
        found = found.get("value", "")
    return "" if found is None else str(found)


def _chassis(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    chassis = _first(entry.get("chassis")) or {}
    if not isinstance(chassis, dict):
        return "", {}
    if "id" in chassis or "name" in chassis:
        return _value(chassis, "name"), chassis
    name, body = next(iter(chassis.items()), ("", {}))
    return str(name), body if isinstance(body, dict) else {}


def _neighbor(interface: str, entry: dict[str, Any]) -> LldpNeighbor:
    system, chassis = _chassis(entry)
    port = _first(entry.get("port")) or {}
    port_id = _first(port.get("id")) if isinstance(port, dict) else {}
    port_id = port_id if isinstance(port_id, dict) else {}
    return LldpNeighbor(
        interface=interface,
        system_name=system,
        port_id=str(port_id.get("value", "")),
        port_id_type=str(port_id.get("type", "")),
        port_descr=_value(port, "descr"),
        chassis_id=_value(chassis, "id"),
    )


def parse(text: str) -> tuple[LldpNeighbor, ...] | None:
    """Every neighbour seen, or None when the text is not lldpctl's JSON."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    lldp = _first(document.get("lldp")) if isinstance(document, dict) else None
    if not isinstance(lldp, dict):
        return None if lldp is None and not isinstance(document, dict) else ()
    return tuple(_neighbor(name, entry) for name, entry in _entries(lldp.get("interface", [])))
