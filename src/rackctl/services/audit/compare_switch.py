"""Switch layer: the running configuration against the intent the switch engine renders, compared by the
engine's own `changes` (services/switch/diff.py), so the audit finds exactly what `rackctl switch diff`
shows: one finding per changed setting of a port or block where the platform's configuration has blocks
(EOS, NX-OS, ifupdown2), one for the whole configuration elsewhere.
"""

from __future__ import annotations

from rackctl.services.audit.compare_common import MakeFinding, maker
from rackctl.services.audit.state import SwitchExpected, SwitchObserved
from rackctl.services.switch.diff import Change, changes
from rackctl.types import Finding, Layer, Severity


def compare_switch(expected: SwitchExpected, observed: SwitchObserved) -> list[Finding]:
    """Findings for one switch's running configuration against the rendered intent."""
    make = maker(expected.device, Layer.SWITCH)
    found = changes(expected.platform, observed.running, expected.intended)
    return [_finding(expected.device, change, make) for change in found]


def _shown(value: str | None) -> str:
    return "not set" if value is None else value or "set"


def _line(setting: str, value: str | None) -> str:
    return f"no {setting}" if value is None else f"{setting} {value}".strip()


def _lower_mtu(change: Change) -> bool:
    # A port whose MTU is below the intent drops the hosts' jumbo frames.
    have, want = change.running or "", change.intended or ""
    return change.setting == "mtu" and have.isdigit() and want.isdigit() and int(have) < int(want)


def _finding(switch: str, change: Change, make: MakeFinding) -> Finding:
    act = f"rackctl switch diff/push {switch}"
    if change.setting:
        severity = Severity.CRITICAL if _lower_mtu(change) else Severity.WARNING
        hint = (
            f"{switch} {change.block} has '{_line(change.setting, change.running)}', the inventory's intent "
            f"'{_line(change.setting, change.intended)}': {act}"
        )
        return make(change.setting, _shown(change.intended), _shown(change.running), severity, hint, change.block)
    if not change.block:
        hint = f"{switch}'s running configuration differs from the inventory's intent: {act}"
        return make("config", "as rendered", "differs", Severity.WARNING, hint)
    if change.running is None:
        hint = f"{switch} {change.block} is missing from the running configuration: {act}"
        return make("config", "configured", "absent", Severity.CRITICAL, hint, change.block)
    hint = f"{switch} {change.block} is configured but not in the inventory's intent (a push removes it): {act}"
    return make("config", "absent", "configured", Severity.WARNING, hint, change.block)
