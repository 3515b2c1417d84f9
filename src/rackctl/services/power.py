"""Power through the BMC: status, and actions that read the state first and act only when needed.

`on` for a node that is on changes nothing and says so. A node whose state cannot be read is never
switched: the read's failure is that node's result. Cycle and reset act only on running nodes: a node
that is off stays off (cycling it would power it on, and it may be off for a reason). Cycle and reset
are never retried, since a retry after a lost answer could switch the node twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rackctl.drivers.base import PowerControl, PowerReadAsync
from rackctl.errors import CommandError, Timeout
from rackctl.services.bmc import on_loop, one_loop, require
from rackctl.types import PowerAction, PowerState

DESTRUCTIVE = frozenset({PowerAction.OFF, PowerAction.SOFT, PowerAction.CYCLE, PowerAction.RESET})
NOT_RETRIED = frozenset({PowerAction.CYCLE, PowerAction.RESET})
# What a lease says a node is going through ("gpu-r12-u03 is being cycled by alice since 14:02").
DOING = {
    PowerAction.ON: "powered on",
    PowerAction.OFF: "powered off",
    PowerAction.SOFT: "shut down",
    PowerAction.CYCLE: "cycled",
    PowerAction.RESET: "reset",
}
CYCLE_SETTLE_S = 2.0


@dataclass(frozen=True)
class PowerResult:
    before: PowerState
    after: PowerState | None
    changed: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Plan:
    send: PowerAction | None  # None: nothing to do
    expect: PowerState
    message: str


def plan(action: PowerAction, before: PowerState) -> _Plan:
    """What to send to a node in state `before` so that `action` holds afterwards."""
    if before == PowerState.UNKNOWN:
        raise CommandError("power state unknown: refusing to switch a node blind")
    on = before == PowerState.ON
    if action == PowerAction.ON:
        return _Plan(None, before, "already on") if on else _Plan(PowerAction.ON, PowerState.ON, "powered on")
    if action in (PowerAction.OFF, PowerAction.SOFT):
        verb = "powered off" if action == PowerAction.OFF else "shut down (ACPI)"
        return _Plan(action, PowerState.OFF, verb) if on else _Plan(None, before, "already off")
    if not on:
        what = "a cycle" if action == PowerAction.CYCLE else "a reset"
        raise CommandError(f"is off: left off ({what} never switches on what is off; switch it on instead)")
    if action == PowerAction.CYCLE:
        return _Plan(action, PowerState.ON, "power cycled")
    return _Plan(action, PowerState.ON, "reset")


def preview(kind: PowerAction) -> Callable[[Any], PowerResult]:
    """A driver operation for --dry-run: read the state and say what `kind` would do (sends nothing)."""

    def apply(bmc: Any) -> PowerResult:
        require(bmc, PowerControl)
        before = bmc.power_state()
        try:
            step = plan(kind, before)
        except CommandError as exc:
            return PowerResult(before, before, False, f"{before.value}: would not act - {exc}", {"power": before.value})
        would = f"would send {step.send.value}" if step.send else f"nothing to do ({step.message})"
        return PowerResult(before, before, False, f"{before.value}: {would}", {"power": before.value})

    return one_loop(apply)


async def _status_async(bmc: PowerReadAsync) -> PowerResult:
    # Only run for drivers whose class is a PowerReadAsync (services.bmc checks it once per fan-out).
    return _status(await bmc.power_state_async())


@on_loop(_status_async)
def status(bmc: Any) -> PowerResult:
    require(bmc, PowerControl)
    return _status(bmc.power_state())


def _status(state: PowerState) -> PowerResult:
    return PowerResult(state, state, False, state.value, {"power": state.value})


def wait_for(bmc: Any, expected: PowerState, seconds: float, interval: float = 0.5) -> PowerState:
    """Poll until the node reports `expected`; Timeout if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    state = bmc.power_state()
    while state != expected and time.monotonic() < deadline:
        time.sleep(interval)
        state = bmc.power_state()
    if state != expected:
        raise Timeout(f"still {state.value} {seconds:g}s after the request (wanted {expected.value})")
    return state


def action(kind: PowerAction, wait_s: float = 0.0, boot_if_off: bool = False) -> Callable[[Any], PowerResult]:
    """A driver operation performing `kind`; with `wait_s`, it also confirms the new state.

    `boot_if_off` (a cycle only): power on a node that is off instead of leaving it off - for reboots a
    change needs to take effect (firmware activation), never for `power cycle`.
    """

    def apply(bmc: Any) -> PowerResult:
        require(bmc, PowerControl)
        before = bmc.power_state()
        booting = boot_if_off and kind == PowerAction.CYCLE and before == PowerState.OFF
        step = _Plan(PowerAction.ON, PowerState.ON, "was off: powered on") if booting else plan(kind, before)
        detail = {"before": before.value, "sent": step.send.value if step.send else None}
        if step.send is None:
            return PowerResult(before, before, False, step.message, detail | {"power": before.value})
        bmc.set_power(step.send)
        if not wait_s:
            return PowerResult(before, None, True, f"{step.message} (not confirmed)", detail)
        if step.send == PowerAction.CYCLE:
            time.sleep(CYCLE_SETTLE_S)  # the node must first go dark: don't mistake the old "on" for the new
        after = wait_for(bmc, step.expect, wait_s)
        return PowerResult(before, after, True, step.message, detail | {"power": after.value})

    return one_loop(apply)
