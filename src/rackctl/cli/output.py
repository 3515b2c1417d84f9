"""Everything the CLI prints: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rackctl.cli import textgrid

_out: Console | None = None
_err: Console | None = None


def out() -> Console:
    global _out
    if _out is None:
        # Pipes and CI logs get wide, uncoloured tables instead of an 80-column squeeze.
        _out = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
    return _out


def err() -> Console:
    global _err
    if _err is None:
        _err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)
    return _err


def reset() -> None:
    """Forget the consoles (tests swap stdout between commands)."""
    global _out, _err
    _out = _err = None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


def raw(text: str) -> None:
    """Print machine-readable text exactly as given (Prometheus, JUnit ...)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cells = [[v if isinstance(v, Text) else Text("" if v is None else str(v)) for v in row] for row in rows]
    if textgrid.fits(columns, cells, out().width):
        out().print(textgrid.draw(title, columns, cells), soft_wrap=True)  # the same box, drawn by line
        return
    grid = Table(title=title, title_justify="left", show_lines=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in cells:
        grid.add_row(*row)
    out().print(grid)


def line(text: str | Text = "") -> None:
    out().print(text, soft_wrap=True, markup=False)


def error(message: str, hint: str | None = None) -> None:
    err().print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, markup=True, highlight=False)
    if hint:
        err().print(f"  hint: {hint}", soft_wrap=True, markup=False)


def note(message: str) -> None:
    err().print(message, soft_wrap=True, markup=False)


def status(ok: bool, good: str = "ok", bad: str = "FAIL") -> Text:
    return Text(good, style="green") if ok else Text(bad, style="bold red")
