"""Who is acting and through which command: recorded by the operation log and the change log."""

from __future__ import annotations

import getpass
import os
from contextvars import ContextVar

# The command now running ("rackctl device set"), set by the CLI; empty for library callers.
COMMAND: ContextVar[str] = ContextVar("rackctl_command", default="")


def current() -> str:
    """RACKCTL_ACTOR when set (automation names itself), else the login name, else the uid."""
    explicit = os.environ.get("RACKCTL_ACTOR")
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
