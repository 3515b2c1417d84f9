"""`dcgmi health -c`: DCGM's health report, as its tree renderer draws it (DCGM 3.x and 4.x).

Rows are '| LEFT | RIGHT |'. Level-0 rows name a section ("Overall Health", "GPU"); deeper rows
start with '-> ' indented by three spaces per level: '-> 0' is an entity, '-> Errors' its list,
'-> PCIe system' a subsystem; rows with an empty left side continue the message above.
"""

from __future__ import annotations

import re

from rackctl.drivers.hostfacts.model import DcgmHealth

_ROW = re.compile(r"^\|\s?(.*?)\s*\|\s?(.*?)\s*\|\s*$")


def _rows(text: str) -> list[tuple[str, str]]:
    rows = []
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            rows.append((match.group(1), match.group(2).strip()))
    return rows


def parse(text: str) -> DcgmHealth | None:
    """Overall health and one line per incident ('GPU 0 PCIe system: Warning - message')."""
    overall = None
    section = entity = ""
    incidents: list[str] = []
    for left, right in _rows(text):
        label = left.strip().removeprefix("-> ")
        depth = (len(left) - len(left.lstrip())) // 3 + (1 if left.strip().startswith("->") else 0)
        if label == "Overall Health":
            overall = right
        elif depth == 0 and label:
            section = label
        elif depth == 1:
            entity = f"{section} {label}".strip()
        elif depth >= 3 and label:
            incidents.append(f"{entity} {label}: {right}")
        elif not label and right and incidents:
            incidents[-1] += (" - " if incidents[-1].endswith(("Warning", "Failure")) else " ") + right
    return DcgmHealth(overall, tuple(incidents)) if overall else None
