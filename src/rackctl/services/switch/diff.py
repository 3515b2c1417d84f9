"""Compare a switch's running configuration with the intended one, looking only at what rackctl manages.

Vendor CLIs (EOS, NX-OS) are compared block by block: a running block counts when the intended config has
a block with the same first line (`interface Ethernet1/1`, `vlan 100`, `mlag configuration`). Onyx lines
count when they start like an intended line. NVUE command lists are compared as sets of commands, SONiC
config_db per intended table, and a Linux switch's ifupdown2 file as a whole.

`config_diff` is the text a person reads; `changes` is the same comparison as values, one per changed
setting of a port or block (the drift audit's switch layer reports them).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
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


# Block heads that name a port, bond or port-channel: the block is reported under that name.
_PORT_HEADS = ("interface", "iface", "auto")


@dataclass(frozen=True)
class Change:
    """One difference `config_diff` shows, as a technician reads it.

    A setting of a block (`block` Ethernet1/12, `setting` mtu, 9216 intended, 1500 running) or a whole block
    (`setting` ""): None where that side does not have it, "" where it has it without a value (`shutdown`).
    On platforms whose configuration has no blocks, the configuration as a whole: `block` "", both None.
    """

    block: str
    setting: str
    intended: str | None
    running: str | None


def _units(text: str) -> dict[str, list[str]]:
    """Blocks keyed by what they configure (`interface Ethernet1/12` -> Ethernet1/12); ifupdown2's
    `auto swp3` and `iface swp3` are one unit, `auto` one of its settings."""
    units: dict[str, list[str]] = {}
    for head, children in blocks(text).items():
        words = head.split()
        if len(words) < 2 or words[0] not in _PORT_HEADS:
            units.setdefault(head, []).extend(children)
            continue
        qualifier = ["auto"] if words[0] == "auto" else [" ".join(words[2:])] if len(words) > 2 else []
        units.setdefault(words[1], []).extend(qualifier + children)
    return units


def _shared(intended: str, running: str) -> int:
    """How many leading words two lines share while both keep a value: `mtu 9216` / `mtu 1500` -> 1."""
    a, b = intended.split(), running.split()
    count = 0
    while count < min(len(a), len(b)) - 1 and a[count] == b[count]:
        count += 1
    return count


def _split(line: str, at: int) -> tuple[str, str]:
    words = line.split()
    return " ".join(words[:at]), " ".join(words[at:])


def _settings(block: str, intended: list[str], running: list[str]) -> list[Change]:
    """Missing and extra lines of one block; a missing and an extra line that name one setting pair up."""
    missing = [line for line in intended if line not in running]
    extra = [line for line in running if line not in intended]
    ranked = sorted((-_shared(m, e), i, j) for i, m in enumerate(missing) for j, e in enumerate(extra))
    partner: dict[int, int] = {}
    for rank, i, j in ranked:
        if rank < 0 and i not in partner and j not in partner.values():
            partner[i] = j
    found = []
    for i, line in enumerate(missing):
        if i in partner:
            shared = _shared(line, extra[partner[i]])
            setting, want = _split(line, shared)
            found.append(Change(block, setting, want, _split(extra[partner[i]], shared)[1]))
        else:
            found.append(Change(block, *_split(line, 1), None))
    lone = [line for j, line in enumerate(extra) if j not in partner.values()]
    return found + [Change(block, _split(line, 1)[0], None, _split(line, 1)[1]) for line in lone]


def _block_changes(running: str, intended: str, whole_file: bool) -> list[Change]:
    want, have = _units(intended), _units(running)
    found = []
    for block, lines in want.items():
        found += _settings(block, lines, have[block]) if block in have else [Change(block, "", "", None)]
    if whole_file:  # the file is replaced as a whole: a push removes blocks the intent does not have
        found += [Change(block, "", None, "") for block in have if block not in want]
    return found


def changes(platform: str, running: str, intended: str) -> list[Change]:
    """What `config_diff` shows, setting by setting per block where the platform's configuration has blocks
    (EOS, NX-OS, ifupdown2), else one change for the whole configuration; empty exactly when the diff is."""
    style = FORMATS[platform]
    found = _block_changes(running, intended, style == "file") if style in ("cli", "file") else []
    if not found and config_diff(platform, running, intended):
        # Same lines in another order, or a platform compared as a whole: the diff itself says where.
        found = [Change("", "", None, None)]
    return found
