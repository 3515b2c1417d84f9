"""Writing a rotated BMC password where the endpoint's secret reference points.

rackctl.secrets does the writing (`write_reference`: a new 0600 file renamed into place, so a reader sees
the old or the new secret, never a half) and the checking (`writable`: file: references inside
`secret_dirs` only); this module adds the pending copy a rotation keeps until the new password logged in.
"""

from __future__ import annotations

from pathlib import Path

from rackctl.secrets import writable, write_private, write_reference

__all__ = ["pending_path", "writable", "write_private", "write_reference"]


def pending_path(ref: str) -> Path:
    """Where a new password waits (0600, beside the reference) until a login with it succeeded."""
    path = writable(ref)
    return path.with_name(f"{path.name}.pending")
