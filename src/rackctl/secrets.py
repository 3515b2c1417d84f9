"""Secret references: what the inventory stores instead of secrets.

A reference is `env:NAME` (an environment variable) or `file:/path` (the file's first line).
It is resolved only at the moment of use and the value is wrapped in `Secret`, whose repr hides it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rackctl.errors import ConfigError
from rackctl.types import Secret

_REF = re.compile(r"^(env):([A-Za-z_][A-Za-z0-9_]*)$|^(file):(/.+)$")


def check_reference(ref: str, where: str = "credential") -> str:
    """Return `ref` if it is a well-formed reference, else refuse it (it may be a literal secret)."""
    if not _REF.match(ref):
        raise ConfigError(
            f"{where}: '{_mask(ref)}' is not a secret reference",
            hint="store env:NAME or file:/absolute/path, never the secret itself",
        )
    return ref


def resolve(ref: str) -> Secret:
    """Read the secret a reference points to."""
    match = _REF.match(ref)
    if not match:
        raise ConfigError(f"'{_mask(ref)}' is not a secret reference (env:NAME or file:/path)")
    if match.group(1):
        name = match.group(2)
        if name not in os.environ:
            raise ConfigError(f"secret reference {ref}: environment variable {name} is not set")
        return Secret(os.environ[name])
    path = Path(match.group(4))
    try:
        first = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"secret reference {ref}: {exc.strerror}") from None
    return Secret(first[0] if first else "")


def _mask(text: str) -> str:
    # Show the scheme-like prefix only, so a pasted password is not echoed back.
    return text.split(":", 1)[0] + ":…" if ":" in text else "…"
