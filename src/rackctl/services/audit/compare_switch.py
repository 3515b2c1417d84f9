"""Switch layer: each planned port's MTU, VLANs, port-channel membership and admin state.

Port-channel names are the switch's own; what must hold is that the ports facing one host bond are
in one port-channel, and ports facing different hosts are not.
"""

from __future__ import annotations

from collections import defaultdict

from rackctl.services.audit.compare_common import MakeFinding, maker
from rackctl.services.audit.state import PortObserved, PortPlan, SwitchExpected, SwitchObserved
from rackctl.types import Finding, Layer, Severity


def compare_switch(expected: SwitchExpected, observed: SwitchObserved) -> list[Finding]:
    """Findings for one switch's running configuration against the rendered intent."""
    make = maker(expected.device, Layer.SWITCH)
    findings: list[Finding] = []
    for plan in expected.ports:
        port = observed.ports.get(plan.name)
        if port is None:
            hint = f"{plan.name} is missing from the running config: re-push the intent (rackctl switch push)"
            findings.append(make("port", plan.name, "absent", Severity.CRITICAL, hint, plan.name))
            continue
        findings += _port(expected.device, plan, port, make)
    return findings + _lags(expected, observed, make)


def _port(switch: str, plan: PortPlan, port: PortObserved, make: MakeFinding) -> list[Finding]:
    findings = []
    facing = f" (faces {plan.faces})" if plan.faces else ""
    if port.admin_up is False:
        hint = f"{switch} {plan.name}{facing} is shut down: no shutdown, or re-push the intent"
        findings.append(make("port-admin", "up", "down", Severity.CRITICAL, hint, plan.name))
    if plan.mtu is not None and port.mtu is not None and port.mtu != plan.mtu:
        severity = Severity.CRITICAL if port.mtu < plan.mtu else Severity.WARNING
        hint = f"{switch} {plan.name}{facing} has MTU {port.mtu}: set {plan.mtu} (rackctl switch diff/push {switch})"
        findings.append(make("mtu", plan.mtu, port.mtu, severity, hint, plan.name))
    missing = sorted(set(plan.vlans) - set(port.vlans))
    extra = sorted(set(port.vlans) - set(plan.vlans))
    if missing or extra:
        hint = f"{switch} {plan.name}{facing} carries other VLANs than planned: rackctl switch diff/push {switch}"
        observed = ",".join(map(str, port.vlans)) or "none"
        findings.append(
            make("vlans", ",".join(map(str, plan.vlans)) or "none", observed, Severity.WARNING, hint, plan.name)
        )
    return findings


def _lags(expected: SwitchExpected, observed: SwitchObserved, make: MakeFinding) -> list[Finding]:
    groups: dict[str, list[PortPlan]] = defaultdict(list)
    for plan in expected.ports:
        if plan.lag_group:
            groups[plan.lag_group].append(plan)
    owners: dict[str, str] = {}
    findings = []
    for group, plans in sorted(groups.items()):
        lags = {p.name: observed.ports[p.name].lag for p in plans if p.name in observed.ports}
        for name, lag in lags.items():
            other = owners.setdefault(lag, group) if lag else group
            if lag is None or len(set(lags.values())) > 1 or other != group:
                hint = (
                    f"{expected.device} {name} must be in the port-channel of {group} (and only its ports): "
                    "re-push the intent; until then the host bond has no LACP partner"
                )
                findings.append(make("port-channel", f"one port-channel for {group}", lag or "none",
                                     Severity.CRITICAL, hint, name))  # fmt: skip
    return findings
