"""SSH host key notation shared by the drivers, the inventory and known_hosts files (no paramiko here)."""

from __future__ import annotations

import base64
import hashlib

SSH_PORT = 22


def fingerprint(blob_b64: str) -> str:
    """The key's SHA256 fingerprint as `ssh-keygen -l` prints it (SHA256:base64, no padding)."""
    digest = hashlib.sha256(base64.b64decode(blob_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(address: str, port: int | None) -> str:
    """How OpenSSH and paramiko name a host in known_hosts: the address, or [address]:port."""
    return address if (port or SSH_PORT) == SSH_PORT else f"[{address}]:{port}"
