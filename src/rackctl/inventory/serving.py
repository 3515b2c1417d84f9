"""The rule for a profile's `extra.serving` section: every value the serving role writes into a systemd unit, a
container's argv or its environment file.

systemd splits ExecStart= on spaces and expands `$`, `%` and quotes; a newline would start a new unit line. So
nothing here is free text: addresses follow `check_address`, node paths are absolute and made of names, the mirror
is a plain http(s) URL, secrets are references, and a container image is an OCI reference pinned by digest.

The image grammar is distribution/reference's (regexp.go: domain, path components, tag), narrowed to what
reproducibility needs: a `sha256:` digest of 64 lowercase hex digits is required (a tag alone can move).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from rackctl import secrets
from rackctl.errors import ConfigError, Location, ValidationError
from rackctl.inventory.names import check_address, check_name, shown

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
IMAGE = re.compile(
    rf"(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>\w[\w.-]{{0,127}}))?"
    r"@(?P<digest>sha256:[a-f0-9]{64})",
    re.ASCII,
)
NAME_MAX = 255  # distribution/reference: NameTotalLengthMax
_IMAGE_HINT = "an OCI image pinned by digest, e.g. registry.example.net/vllm/vllm-openai@sha256:<64 hex digits>"
SECRET_KEYS = ("token", "api_key")
PATH_KEYS = ("model_path", "wheelhouse")
TLS_KEYS = ("cert", "key", "ca")

Locate = Callable[[str], Location | None]


def check_image(value: object, field: str, where: Location | None = None) -> str:
    """Return `value` if it is an OCI image reference pinned by a sha256 digest; raise ValidationError otherwise."""
    match = IMAGE.fullmatch(value) if isinstance(value, str) else None
    if match is None or len(match.group("name")) > NAME_MAX:
        raise ValidationError(f"{field} {shown(value)} refused: not an image pinned by digest", where, hint=_IMAGE_HINT)
    return str(value)


def check_node_path(value: object, field: str, where: Location | None = None) -> str:
    """Return an absolute path on the node whose every component passes the name rule."""
    parts = value.split("/") if isinstance(value, str) else []
    if len(parts) < 2 or parts[0] != "":
        raise ValidationError(f"{field} {shown(value)} refused: not an absolute path", where, hint="e.g. /srv/models/x")
    for part in parts[1:]:
        check_name(part, f"{field} component", where)
    return str(value)


def check_mirror(value: object, field: str, where: Location | None = None) -> str:
    """Return an http(s) URL of a model mirror: scheme, host (the address rule), optional port and plain path."""
    text = value if isinstance(value, str) else ""
    try:
        url = urlsplit(text)
        port_ok = url.port is None or 0 < url.port < 65536
    except ValueError:
        url, port_ok = urlsplit(""), False
    if url.scheme not in ("http", "https") or not url.hostname or not port_ok or url.query or url.fragment:
        raise ValidationError(
            f"{field} {shown(value)} refused: not an http(s) URL", where, hint="e.g. https://hf.example"
        )
    check_address(url.hostname, field, where)
    for part in filter(None, url.path.split("/")):
        check_name(part, f"{field} path component", where)
    return text


def _host(value: object, field: str, where: Location | None) -> str:
    # check_address lets "" through (an address not yet known); a bind address must be there.
    if value == "":
        raise ValidationError(f"{field} refused: empty", where, hint="e.g. 127.0.0.1 or 10.100.0.12")
    return check_address(value if isinstance(value, str) else str(value), field, where)


def _reference(value: object, field: str, where: Location | None) -> str:
    try:
        return secrets.check_reference(str(value) if isinstance(value, str) else "", field)
    except ConfigError as exc:
        raise ValidationError(str(exc), where, hint=exc.hint) from None


def check_serving(section: object, locate: Locate) -> None:
    """Refuse an `extra.serving` section whose values could break out of the unit or the container's argv."""
    if not isinstance(section, dict):
        raise ValidationError("extra.serving must be a mapping", locate(""))
    checks: list[tuple[str, Any, Callable[..., str]]] = [("image", section.get("image"), check_image)]
    checks += [("host", section.get("host"), _host), ("model_mirror", section.get("model_mirror"), check_mirror)]
    checks += [(key, section.get(key), check_node_path) for key in PATH_KEYS]
    checks += [(key, section.get(key), _reference) for key in SECRET_KEYS]
    tls = section.get("grpc_tls")
    if tls is not None and (not isinstance(tls, dict) or set(tls) != set(TLS_KEYS)):
        raise ValidationError("extra.serving.grpc_tls needs exactly cert, key and ca (node paths)", locate("grpc_tls"))
    checks += [(f"grpc_tls.{key}", (tls or {}).get(key), check_node_path) for key in TLS_KEYS]
    for key, value, check in checks:
        if value is not None:
            check(value, f"extra.serving.{key}", locate(key))
