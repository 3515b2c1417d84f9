"""Move devices through their lifecycle; every move is recorded with who and why.

A move reads the device's state and writes the next: the row is locked first (see inventory/locking.py),
so two processes moving the same device are served one after the other and every history row's
`from_state` is the state the previous row left.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory.locking import lock_row
from rackctl.inventory.models import Device, StateChange
from rackctl.types import NodeState, transition_allowed

# Devices that are powered and part of the fleet: removing one from the inventory needs --force.
LIVE_STATES = frozenset(
    {NodeState.POWERED, NodeState.PROVISIONED, NodeState.VALIDATED, NodeState.IN_SERVICE, NodeState.MAINTENANCE}
)


def record_initial_state(session: Session, device: Device, actor: str, reason: str) -> None:
    session.add(StateChange(device=device, from_state=None, to_state=device.state, actor=actor, reason=reason))


def change_state(
    session: Session, device: Device, target: NodeState, actor: str, reason: str = "", force: bool = False
) -> bool:
    """Move a device to `target`; False when it is already there. Refuses skipped steps unless forced."""
    lock_row(session, device, ["state"])
    if device.state == target:
        return False
    if not force and not transition_allowed(device.state, target):
        raise ValidationError(
            f"{device.name}: cannot go from {device.state} to {target}",
            hint="bring-up goes one step at a time; --force records the jump anyway",
        )
    session.add(StateChange(device=device, from_state=device.state, to_state=target, actor=actor, reason=reason))
    device.state = target
    return True
