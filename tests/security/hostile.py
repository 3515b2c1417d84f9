"""The attack cases of issue 12: values an attacker with write access to the inventory (or to a template,
a CSV or a device-type file) would try, each with what it is trying to do."""

from __future__ import annotations

from typing import Any

import pytest

# value -> what it attacks
HOSTILE = {
    "y'$(id>/tmp/x)'": "quotes and command substitution in a shell line (the Cumulus push ran it as root)",
    "r`id`": "backticks",
    "r1\nusername evil privilege 15 secret x": "a newline adding a privileged user to an EOS configuration",
    "r1\r\nreload": "a carriage return and newline",
    "r1-u03,gpu-r1": "a comma: a node-set union selecting another rack's nodes",
    "r[1-3]": "brackets: a node-set range",
    "r 1": "a space: breaks @role:/@all expansion and every CLI line",
    "../../x": "a path escaping its folder (switch backups, state folders)",
    "..": "the parent folder itself",
    "gpu-\u0440\u04311": "Cyrillic look-alikes of r and b",
    "g\u200bpu": "a zero-width space",
    "a" * 300: "very long: longer than a DNS label, a slug and every name column",
    "-rf": "a leading dash read as an option by a command",
    "r1;reboot": "a shell command separator",
    "@all": "a node-set group",
    "r1&r2": "a node-set intersection",
    "r1!r2": "a node-set exclusion",
    "r1^r2": "a node-set symmetric difference",
    "x:y": "a group source separator (and device:interface)",
    "r1\x1b[2J": "a terminal escape sequence",
    'r"1': "a double quote",
    "r1#": "a comment character in EOS, NX-OS, ifupdown2 and shell",
    "": "empty",
}

# A few of the above, one per kind of attack, where trying all of them would only repeat the same check.
SAMPLE = [
    "y'$(id>/tmp/x)'",
    "r1\nusername evil privilege 15 secret x",
    "r1-u03,gpu-r1",
    "r 1",
    "gpu-\u0440\u04311",
    "a" * 64,
]

# Free text (descriptions, reasons): these must be refused; plain printable text with spaces is fine.
HOSTILE_TEXT = {
    "ok\nusername evil privilege 15": "a newline",
    "ok\r": "a carriage return",
    "tab\there": "a tab",
    "bell\x07": "a control character",
    "rtl\u202egnp.exe": "a bidirectional override",
    "zero\u200bwidth": "a zero-width space",
    "x" * 1000: "very long",
}

# Identifiers (serials, asset tags, user names) may hold `:` `/` `@` `+` `=` inside, so those few cases
# are not attacks there; everything else above is.
HOSTILE_TOKENS = {v: why for v, why in HOSTILE.items() if v not in ("x:y",)}


def one_error_line(result: object) -> str:
    """The error a refused command printed: exactly one line (plus an optional hint), no traceback."""
    stderr = str(getattr(result, "stderr", ""))
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint: ")), stderr
    assert "Traceback" not in stderr
    return lines[0]


def params(cases: dict[str, str], skip_empty: bool = False) -> list[Any]:
    """The cases as pytest parameters whose ids say what each attacks."""
    return [
        pytest.param(value, id=why.split(":")[0].replace(" ", "-")[:40])
        for value, why in cases.items()
        if value.strip() or not skip_empty
    ]
