"""The out-of-band half of bring-up: what `rackctl bringup` asks of a node's BMC.

Each takes the node's management endpoint (credentials resolved) and either returns (done) or raises a
rackctl error whose message and hint reach the technician's summary. They use the same drivers and
power logic as `rackctl power` and `rackctl boot`: read the state first, act only when needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rackctl.errors import AuthError, ConnectError, DriverError, Timeout
from rackctl.services import oob, power
from rackctl.services.bmc import BmcTarget, driver_for
from rackctl.types import BootDevice, Endpoint, MgmtProtocol, PowerAction

POWER_ON_WAIT_S = 60.0


def _target(endpoint: Endpoint) -> BmcTarget:
    return BmcTarget(endpoint.name, endpoint, MgmtProtocol(endpoint.protocol or MgmtProtocol.AUTO))


def _hint(exc: DriverError, node: str) -> str:
    if isinstance(exc, AuthError):
        return (
            f"the BMC refuses the inventory's credentials: fix them (rackctl device set {node} --mgmt-credential ...)"
        )
    if isinstance(exc, ConnectError | Timeout):
        return (
            f"check the BMC's cable and address (rackctl bmc probe {node}); a hung BMC comes back after "
            f"a power cycle at the PDU (rackctl power cycle {node} --via pdu)"
        )
    return f"read the BMC's event log (rackctl sel list {node}) and retry"


@contextmanager
def _bmc(endpoint: Endpoint) -> Iterator[Any]:
    """A driver session whose failures carry a hint for the bring-up summary."""
    try:
        with driver_for(_target(endpoint)) as bmc:
            yield bmc
    except DriverError as exc:
        exc.hint = exc.hint or _hint(exc, endpoint.name)
        raise


def bmc_reachable(endpoint: Endpoint) -> None:
    """Prove the BMC answers with the inventory's credentials (ConnectError/AuthError otherwise)."""
    with _bmc(endpoint) as bmc:
        power.status(bmc)


def boot_pxe_once(endpoint: Endpoint) -> None:
    """Make the next boot, and only the next, a network (PXE) boot."""
    with _bmc(endpoint) as bmc:
        oob.set_boot(BootDevice.PXE, persistent=False, uefi=True)(bmc)


def power_on(endpoint: Endpoint) -> None:
    """Power the node on and confirm it (a no-op when it is already on)."""
    with _bmc(endpoint) as bmc:
        power.action(PowerAction.ON, POWER_ON_WAIT_S)(bmc)
