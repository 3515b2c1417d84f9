"""What a power action sends for each current state: idempotent, and never blind."""

from __future__ import annotations

import pytest

from rackctl.errors import CommandError
from rackctl.services.power import plan
from rackctl.types import PowerAction, PowerState

ON, OFF = PowerState.ON, PowerState.OFF


@pytest.mark.parametrize(
    ("action", "before", "sent", "expect", "message"),
    [
        (PowerAction.ON, ON, None, ON, "already on"),
        (PowerAction.ON, OFF, PowerAction.ON, ON, "powered on"),
        (PowerAction.OFF, OFF, None, OFF, "already off"),
        (PowerAction.OFF, ON, PowerAction.OFF, OFF, "powered off"),
        (PowerAction.SOFT, ON, PowerAction.SOFT, OFF, "shut down (ACPI)"),
        (PowerAction.SOFT, OFF, None, OFF, "already off"),
        (PowerAction.CYCLE, ON, PowerAction.CYCLE, ON, "power cycled"),
        (PowerAction.RESET, ON, PowerAction.RESET, ON, "reset"),
    ],
)
def test_plan(
    action: PowerAction, before: PowerState, sent: PowerAction | None, expect: PowerState, message: str
) -> None:
    step = plan(action, before)
    assert (step.send, step.expect, step.message) == (sent, expect, message)


@pytest.mark.parametrize("action", [PowerAction.RESET, PowerAction.CYCLE])
def test_reset_or_cycle_of_a_node_that_is_off_leaves_it_off(action: PowerAction) -> None:
    # A node that is off may be off for a reason: a cycle (or reset) must never be what powers it on.
    with pytest.raises(CommandError, match="is off: left off"):
        plan(action, OFF)


@pytest.mark.parametrize("action", list(PowerAction))
def test_unknown_state_never_switches(action: PowerAction) -> None:
    with pytest.raises(CommandError, match="unknown"):
        plan(action, PowerState.UNKNOWN)
