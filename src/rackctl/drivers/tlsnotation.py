"""TLS pin and scheme notation shared by the Redfish driver and the inventory (no requests or ssl here)."""

from __future__ import annotations

import re

SCHEMES = ("https", "http")
_HEX = re.compile(r"[0-9a-f]{64}")


def fingerprint_hex(text: str) -> str | None:
    """A certificate's SHA-256 as 64 lower-case hex digits, from how people write it: any case, with or without
    colons (as `openssl x509 -noout -fingerprint -sha256` prints), with or without a `SHA256:` prefix; None when
    it is not one."""
    hex_digits = text.strip().lower().removeprefix("sha256:").removeprefix("sha256 fingerprint=").replace(":", "")
    return hex_digits if _HEX.fullmatch(hex_digits) else None


def fingerprint_shown(hex_digits: str) -> str:
    """The fingerprint as openssl prints it (`AB:CD:...`), the form the inventory stores and shows."""
    upper = hex_digits.upper()
    return ":".join(upper[i : i + 2] for i in range(0, len(upper), 2))
