"""Render time, the second line of defence: intent whose strings could change a configuration's structure is
refused, and free text is quoted the way each platform reads it.

Names were checked when written, but a row may have reached the database some other way (an older
release, SQL by hand). So before any template runs, every name in the intent must pass the name rule
again, and every description must be one line of printable text. Then each platform gets its quoting:

- EOS, NX-OS, Onyx and ifupdown2 read a description to the end of the line and have no escape for
  quotes; `?` asks an interactive CLI for help. Descriptions keep letters, digits, space and
  `. _ , : / @ + = ( ) -`; anything else becomes `_` (Onyx also wraps them in double quotes).
- Cumulus NVUE commands are shell words: every value goes through `shlex.quote`.
- SONiC's config_db.json is written by a JSON encoder.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict
from typing import Any

from rackctl.errors import ValidationError
from rackctl.inventory.names import check_interface, check_text, shown
from rackctl.services.switch.model import SwitchIntent

_CLI_UNSAFE = re.compile(r"[^A-Za-z0-9 ._,:/@+=()-]")
_DESCRIPTION_MAX = 200  # below every platform's limit (EOS 240, NX-OS 254, Onyx 256)
_FREE_TEXT = {"description"}


def check_intent(intent: SwitchIntent) -> None:
    """Refuse intent holding a name the rule refuses or a description that is not one printable line."""
    for path, value in _strings(asdict(intent)):
        field = f"{shown(intent.name)}: {'.'.join(path)}"
        try:
            if path[-1] in _FREE_TEXT:
                check_text(value, field, limit=_DESCRIPTION_MAX)
            else:
                for part in _parts(path, value):
                    check_interface(part, field)
        except ValidationError as exc:
            raise ValidationError(f"refusing to render: {exc.reason}", hint=exc.hint) from None


def _parts(path: tuple[str, ...], value: str) -> tuple[str, ...]:
    """The names in a value: a port's or channel's peer is `device:interface`, each half a name."""
    if path[-1] == "peer" and path[0] in ("ports", "channels"):
        device, _, interface = value.partition(":")
        return device, interface
    return (value,)


def _strings(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every string below `node` with the keys that lead to it (list items keep their parent's key)."""
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [found for key, value in node.items() for found in _strings(value, (*path, str(key)))]
    if isinstance(node, list | tuple):
        return [found for value in node for found in _strings(value, path)]
    return []


def cli_text(text: str) -> str:
    """Free text for a line-oriented CLI that reads it to the end of the line: safe characters only."""
    return _CLI_UNSAFE.sub("_", text).strip()[:_DESCRIPTION_MAX] or "-"


def double_quoted(text: str) -> str:
    """Free text in double quotes (Onyx): nothing inside can end the quotes or escape them."""
    return f'"{cli_text(text)}"'


def sh(value: object) -> str:
    """One shell word (Cumulus NVUE commands)."""
    return shlex.quote(str(value))
