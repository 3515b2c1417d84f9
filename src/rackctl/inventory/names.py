"""The one rule for every name the inventory stores, and for the free text beside them.

Names travel: into ClusterShell node sets (`,` `[` `]` `@` `!` `&` `^` `:` and space are its syntax),
shell lines, switch CLI lines, YAML and JSON files, file paths (`..`, `/`), argv (a leading `-` is an
option) and terminals (control characters). So a name is deliberately small: ASCII letters, digits and
`. _ -`, starting and ending with a letter or digit, no `..`, at most 63 characters (a DNS label). ASCII
only, so `gpu-r1` and `gpu-r1` with a Cyrillic `r` can never be two different devices that look alike.

- `check_name`: racks, pods, devices, sites, profiles, device-type slugs, feeds, VLAN names, platforms.
- `check_interface`: interfaces, console, power ports and outlets: a name plus `/` (`Ethernet1/1`,
  `swp1s0`, `ens1f0np0`, `1/1/1`); `:` stays out because `device:interface` is how cables are shown.
- `check_token`: identifiers from outside (serials, asset tags, user names, software versions, model
  paths): a name plus `/ : @ + =`, still no whitespace, quotes or shell syntax.
- `check_address`: a management address: an IP address or a host name.
- `check_text`: descriptions and reasons: any printable text, no control or invisible formatting
  characters (newlines, escapes, bidirectional overrides), with a length cap.

Every checker returns the value unchanged or raises `ValidationError` naming the field and where the
value came from; the shown value is escaped, so the error itself stays one harmless line.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable

from rackctl.errors import Location, ValidationError

NAME_MAX = 63
TEXT_MAX = 255
# Besides ASCII letters and digits, each kind of identifier allows these characters inside it.
_RULES = {
    "name": ("._-", "names"),
    "interface": ("._-/", "interface and port names"),
    "token": ("._-/:@+=", "identifiers"),
}
_PATTERNS = {
    kind: re.compile(f"[A-Za-z0-9](?:[A-Za-z0-9{re.escape(extra)}]*[A-Za-z0-9])?")
    for kind, (extra, _) in _RULES.items()
}
_ALLOWED = {kind: set(extra) for kind, (extra, _) in _RULES.items()}
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# Unicode categories refused in free text: controls, invisible formatting (bidi overrides, zero
# width), surrogates, private use, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _hint(kind: str) -> str:
    extra = " ".join(_RULES[kind][0])
    return f"{_RULES[kind][1]} use A-Z a-z 0-9 {extra}, start and end with a letter or digit, at most {NAME_MAX}"


def shown(value: object, limit: int = 40) -> str:
    """A value as it may appear in an error: escaped to printable ASCII and cut short."""
    text = ascii(value) if isinstance(value, str) else ascii(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"{ch!a} (U+{ord(ch):04X}{' ' + name if name else ''})"


def _refuse(value: object, field: str, reason: str, where: Location | None, hint: str | None) -> None:
    raise ValidationError(f"{field} {shown(value)} refused: {reason}", where, hint=hint)


def _identifier_problem(value: str, kind: str, limit: int) -> str | None:
    """Why `value` is not a valid identifier of this kind, or None when it is."""
    if not value:
        return "empty"
    if len(value) > limit:
        return f"longer than {limit} characters"
    for ch in value:
        if not ch.isascii():
            return f"non-ASCII character {_char(ch)}: ASCII only, so no look-alikes"
        if not ch.isalnum() and ch not in _ALLOWED[kind]:
            return f"character {_char(ch)} is not allowed in {_RULES[kind][1]}"
    if ".." in value:
        return "'..' is not allowed"
    if not _PATTERNS[kind].fullmatch(value):
        return "must start and end with a letter or digit"
    return None


def _checker(kind: str) -> Callable[..., str]:
    def check(value: str, field: str, where: Location | None = None, *, limit: int = NAME_MAX) -> str:
        if not isinstance(value, str):
            _refuse(value, field, f"must be text, not {type(value).__name__}", where, _hint(kind))
        problem = _identifier_problem(value, kind, limit)
        if problem is not None:
            _refuse(value, field, problem, where, _hint(kind))
        return value

    check.__doc__ = f"Return `value` if it is valid among {_RULES[kind][1]}; raise ValidationError otherwise."
    return check


check_name = _checker("name")
check_interface = _checker("interface")
check_token = _checker("token")


def is_name(value: object) -> bool:
    """Whether `value` passes `check_name`."""
    return isinstance(value, str) and _identifier_problem(value, "name", NAME_MAX) is None


def text_problem(value: str, limit: int = TEXT_MAX) -> str | None:
    """Why `value` is not acceptable free text, or None when it is."""
    if len(value) > limit:
        return f"longer than {limit} characters"
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"control or invisible character {_char(ch)} is not allowed"
    return None


def one_line(value: str, limit: int = TEXT_MAX) -> str:
    """Text that rackctl itself composes from tools' output (ssh, Ansible), made acceptable free text: control
    and invisible characters become spaces, runs of spaces one, at most `limit` characters."""
    kept = "".join(" " if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch for ch in value)
    return " ".join(kept.split())[:limit]


def check_text(value: str, field: str, where: Location | None = None, *, limit: int = TEXT_MAX) -> str:
    """Return free text (a description, a reason) if it holds no control characters and fits `limit`."""
    if not isinstance(value, str):
        _refuse(value, field, f"must be text, not {type(value).__name__}", where, None)
    problem = text_problem(value, limit)
    if problem is not None:
        _refuse(value, field, problem, where, "free text: printable characters only, one line")
    return value


def check_address(value: str, field: str, where: Location | None = None) -> str:
    """Return a management address if it is empty (not yet known), an IP address or a host name."""
    if value == "":
        return value
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if len(value) > 253 or ".." in value or not _HOSTNAME.fullmatch(value):
        _refuse(value, field, "not an IP address or host name", where, "e.g. 10.0.0.12 or bmc-r12-u03.example.net")
    return value
