"""Parse what devices say about their neighbours: switch LLDP tables (TextFSM templates from ntc-templates),
lldpd's `lldpctl -f json` (hosts, Cumulus, SONiC, Linux switches) and InfiniBand's `ibnetdiscover`.

Parsers are pure: text in, `Neighbour` values out, so recorded device output tests them directly.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ntc_templates.parse import parse_output

from rackctl.drivers.base import Neighbour
from rackctl.errors import CommandError

# ntc-templates names the columns differently per platform (and per template version).
_LOCAL = ("local_interface", "local_port", "port")
_NAME = ("neighbor_name", "neighbor", "system_name")
_REMOTE = ("neighbor_interface", "neighbor_port_id", "port_id")


def _field(row: dict[str, Any], names: tuple[str, ...]) -> str:
    return next((str(row[n]) for n in names if row.get(n)), "")


def parse_lldp_table(platform: str, command: str, text: str, device: str) -> list[Neighbour]:
    """A switch's `show lldp neighbors` through the ntc-templates TextFSM template for its platform."""
    try:
        rows = parse_output(platform=platform, command=command, data=text)
    except Exception as exc:  # textfsm raises its own hierarchy; one place turns it into ours
        raise CommandError(f"{device}: cannot parse '{command}' output: {exc}") from None
    return [Neighbour(device, _field(r, _LOCAL), _field(r, _NAME), _field(r, _REMOTE)) for r in rows]


def _entries(value: Any) -> list[tuple[str, Any]]:
    # lldpctl -f json writes {"name": {...}} for one entry and a list of such objects for several.
    if isinstance(value, dict):
        return list(value.items())
    return [pair for item in value or [] if isinstance(item, dict) for pair in item.items()]


def _chassis_name(chassis: Any) -> str:
    for name, body in _entries(chassis):
        if isinstance(body, dict) and "id" in body:
            return name  # keyed by the system name; a chassis without one is keyed by "id"
    return ""


def parse_lldpctl_json(text: str, device: str) -> list[Neighbour]:
    """lldpd's `lldpctl -f json` (lldpd 0.9/1.x: interfaces and chassis keyed by name)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{device}: lldpctl did not print JSON ({exc.msg} at line {exc.lineno})") from None
    found = []
    for port, body in _entries((data.get("lldp") or {}).get("interface")):
        far = body.get("port") or {}
        port_id = far.get("id") or {}
        value = port_id.get("value", "") if isinstance(port_id, dict) else port_id
        found.append(Neighbour(device, port, _chassis_name(body.get("chassis")), str(value), str(far.get("descr", ""))))
    return found


_NODE = re.compile(r'^(Switch|Ca)\s+\d+\s+"(?P<guid>[^"]+)"\s+#\s+"(?P<desc>[^"]*)"')
_LINK = re.compile(r'^\[(?P<port>\d+)\](?:\([0-9a-fA-F]+\))?\s+"(?P<guid>[^"]+)"\[(?P<far>\d+)\]')


def parse_ibnetdiscover(text: str) -> list[Neighbour]:
    """`ibnetdiscover` topology: one Neighbour per port, named by node description; ports are numbers.

    The reporting device is the node description as written (`MF0;ib-p1-1:MQM9700/U1`, `gpu-r12-u03 mlx5_0`);
    `cabling.ib_name` maps both to inventory names.
    """
    descriptions: dict[str, str] = {}
    links: list[tuple[str, str, str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        node = _NODE.match(line)
        if node:
            current = node["guid"]
            descriptions[current] = node["desc"]
            continue
        link = _LINK.match(line)
        if link and current:
            links.append((current, link["port"], link["guid"], link["far"]))
    return [
        Neighbour(descriptions[guid], port, descriptions.get(far_guid, far_guid), far_port)
        for guid, port, far_guid, far_port in links
    ]
