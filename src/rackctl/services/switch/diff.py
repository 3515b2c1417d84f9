"""Compare a switch's running configuration with the intended one, looking only at what rackctl manages.

Vendor CLIs (EOS, NX-OS) are compared block by block: a running block counts when the intended config has
a block with the same first line (`interface Ethernet1/1`, `vlan 100`, `mlag configuration`). Onyx lines
count when they start like an intended line. NVUE command lists are compared as sets of commands, SONiC
config_db per intended table, and a Linux switch's ifupdown2 file as a whole.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from rackctl.services.switch.render import FORMATS


def _meaningful(text: str, comments: tuple[str, ...]) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(comments)]


def blocks(text: str) -> dict[str, list[str]]:
    """Top-level lines of an indented CLI config, each with its indented children."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _meaningful(text, ("!", "#")):
        if line.strip() == "end":
            continue
        if line[0] in " \t":
            if current is not None:
                current.append(line.strip())
            continue
        current = found.setdefault(line.strip(), [])
    return found


def _cli_view(running: str, intended: str) -> tuple[list[str], list[str]]:
    want, have = blocks(intended), blocks(running)

    def lines(source: dict[str, list[str]]) -> list[str]:
        return [x for head in want if head in source for x in [head, *(f"   {c}" for c in source[head])]]

    return lines(have), lines(want)


def _prefix(line: str) -> str:
    return " ".join(line.split()[:3])


def _lines_view(running: str, intended: str) -> tuple[list[str], list[str]]:
    want = _meaningful(intended, ("#",))
    prefixes = {_prefix(line) for line in want}
    return [line for line in _meaningful(running, ("#",)) if _prefix(line) in prefixes], want


def _nvue_view(running: str, intended: str) -> tuple[list[str], list[str]]:
    return sorted(set(_meaningful(running, ("#",)))), sorted(set(_meaningful(intended, ("#",))))


def _json_view(running: str, intended: str) -> tuple[list[str], list[str]]:
    want: dict[str, Any] = json.loads(intended)
    try:
        have = json.loads(running) if running.strip() else {}
    except json.JSONDecodeError:
        have = {}
    managed = {table: have.get(table, {}) for table in want}
    return json.dumps(managed, indent=2, sort_keys=True).splitlines(), json.dumps(
        want, indent=2, sort_keys=True
    ).splitlines()


def _file_view(running: str, intended: str) -> tuple[list[str], list[str]]:
    return _meaningful(running, ("#",)), _meaningful(intended, ("#",))


_VIEWS = {"cli": _cli_view, "lines": _lines_view, "nvue": _nvue_view, "json": _json_view, "file": _file_view}


def config_diff(platform: str, running: str, intended: str, name: str = "switch") -> str:
    """A unified diff from running to intended over the managed part; empty when they agree."""
    have, want = _VIEWS[FORMATS[platform]](running, intended)
    return "\n".join(difflib.unified_diff(have, want, f"{name} running", f"{name} intended", n=2, lineterm=""))
