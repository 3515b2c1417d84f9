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
        (PowerAction.CYCLE, OFF, PowerAction.ON, ON, "was off: powered on"),
        (PowerAction.RESET, ON, PowerAction.RESET, ON, "reset"),
    ],
)
def test_plan(
    action: PowerAction, before: PowerState, sent: PowerAction | None, expect: PowerState, message: str
) -> None:
    step = plan(action, before)
    assert (step.send, step.expect, step.message) == (sent, expect, message)


def test_reset_of_a_node_that_is_off_is_refused() -> None:
    with pytest.raises(CommandError, match="is off"):
        plan(PowerAction.RESET, OFF)


@pytest.mark.parametrize("action", list(PowerAction))
def test_unknown_state_never_switches(action: PowerAction) -> None:
    with pytest.raises(CommandError, match="unknown"):
        plan(action, PowerState.UNKNOWN)
