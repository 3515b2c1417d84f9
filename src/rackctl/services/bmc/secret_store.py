"""Writing a rotated BMC password where the endpoint's secret reference points.

Only `file:` references can be written (env: and cred: are set outside rackctl); the file is replaced
atomically by a new 0600 file renamed into place, so a reader sees the old or the new secret, never a
half. NOTE(sec-trust branch): `rackctl.secrets.write_reference` does this (and checks `secret_dirs`) once it
lands; this module then delegates to it and keeps only `writable` and the pending copy.
"""

from __future__ import annotations

import os
import secrets as token
from pathlib import Path

from rackctl.errors import ConfigError


def writable(ref: str) -> Path:
    """The file a reference points to, if rackctl can rewrite it; refused otherwise (before any change)."""
    scheme, _, rest = ref.partition(":")
    if scheme != "file" or not rest.startswith("/"):
        raise ConfigError(
            f"secret reference {scheme}:…: rackctl can rewrite file: references only",
            hint="point the endpoint at file:/path (0600) to rotate its password with rackctl",
        )
    path = Path(rest)
    if any(c in rest for c in "\r\n\0") or ".." in path.parts:
        raise ConfigError(f"secret reference {ref}: not a plain absolute path")
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise ConfigError(f"secret reference {ref}: its folder cannot be written by this user")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"secret reference {ref}: the file cannot be written by this user")
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` through a new 0600 file (O_EXCL, never chmod-ed after) renamed into place."""
    temporary = path.parent / f".{path.name}.{token.token_hex(6)}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_reference(ref: str, value: str) -> None:
    """Replace the secret behind a `file:` reference atomically, owner-only (0600)."""
    if any(c in value for c in "\r\n\0"):
        raise ConfigError(f"secret reference {ref}: a secret must be one line")
    write_private(writable(ref), value + "\n")


def pending_path(ref: str) -> Path:
    """Where a new password waits (0600, beside the reference) until a login with it succeeded."""
    path = writable(ref)
    return path.with_name(f"{path.name}.pending")
