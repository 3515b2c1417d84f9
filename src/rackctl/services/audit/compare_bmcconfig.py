"""BMC layer, BMC-side configuration: firmware drift against the profile's baseline (per component) and BIOS
drift against its BIOS settings (per attribute, staged values included)."""

from __future__ import annotations

from rackctl.services.audit.compare_common import MakeFinding
from rackctl.services.audit.state import BmcExpected, BmcObserved
from rackctl.services.bmc.baseline import plan_node
from rackctl.services.bmc.bios import diff
from rackctl.types import Finding, Severity


def configuration_findings(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    return _unreadable(exp, obs, make) + _firmware(exp, obs, make) + _bios(exp, obs, make)


def _unreadable(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    hint = "the profile names it, but this BMC does not tell: check the BMC's protocol (Redfish) and firmware"
    return [
        make(name, "readable", f"not readable: {why}"[:300], Severity.WARNING, hint, subject="inventory")
        for name, why in sorted(obs.unreadable.items())
    ]


def _firmware(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    if not exp.firmware or obs.firmware is None:
        return []
    node_plan = plan_node(exp.device, exp.firmware, obs.firmware)
    findings = [
        make("firmware", step.wanted.version, step.current, Severity.WARNING,
             f"rackctl firmware update {exp.device} --components {step.kind}", subject=step.kind)
        for step in node_plan.steps
    ]  # fmt: skip
    hint = "the baseline names a component this BMC does not report: check the profile's `match` or the hardware"
    findings += [
        make("firmware", exp.firmware[kind].version, "not reported", Severity.WARNING, hint, subject=kind)
        for kind in node_plan.missing
    ]
    return findings


def _bios(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    if not exp.bios or obs.bios is None:
        return []
    findings = []
    for row in diff(exp.bios, obs.bios).rows:
        subject = row.attribute or row.source
        if row.status == "problem":
            hint = "the profile asks for a setting this BMC cannot take: fix the profile's bios section"
            findings.append(make("bios", "settable", row.problem, Severity.WARNING, hint, subject=subject))
        elif row.status in ("differs", "pending"):
            staged = " (staged: applies at the next reboot)" if row.status == "pending" else ""
            hint = f"rackctl bios apply {exp.device} --reboot" if not staged else f"reboot {exp.device} to apply it"
            observed = f"{row.current}{staged}"
            findings.append(make("bios", str(row.wanted), observed, Severity.WARNING, hint, subject=subject))
    return findings
