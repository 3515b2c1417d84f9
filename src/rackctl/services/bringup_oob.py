"""The out-of-band half of bring-up: what `rackctl bringup` asks of a node's BMC.

Placeholders until the BMC services (services/power.py, services/boot.py) land: each takes the node's
management endpoint and either returns (done) or raises a rackctl error whose message and hint reach the
technician's summary. Fill these three and bring-up runs end to end.
"""

from __future__ import annotations

from rackctl.errors import Unsupported
from rackctl.types import Endpoint

_NOT_YET = "out-of-band control not available yet"
_HINT = "power the node on by hand (front panel or BMC web UI), set it powered, and rerun bringup"


def bmc_reachable(endpoint: Endpoint) -> None:
    """Prove the BMC answers with the inventory's credentials (raise ConnectError/AuthError otherwise)."""
    raise Unsupported(_NOT_YET, hint=_HINT)


def boot_pxe_once(endpoint: Endpoint) -> None:
    """Make the next boot, and only the next, a network (PXE) boot."""
    raise Unsupported(_NOT_YET, hint=_HINT)


def power_on(endpoint: Endpoint) -> None:
    """Power the node on (a no-op when it is already on)."""
    raise Unsupported(_NOT_YET, hint=_HINT)
