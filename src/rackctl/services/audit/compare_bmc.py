"""BMC layer: identity (serial, model), BMC and BIOS firmware, power state, health, critical events; the
firmware baseline and BIOS settings in compare_bmcconfig."""

from __future__ import annotations

from rackctl.services.audit.compare_bmcconfig import configuration_findings
from rackctl.services.audit.compare_common import ENERGISED, MakeFinding, maker, severity_for
from rackctl.services.audit.state import BmcExpected, BmcObserved
from rackctl.types import Finding, Health, Layer, NodeState, PowerState, Severity
from rackctl.versions import same_version


def compare_bmc(expected: BmcExpected, observed: BmcObserved) -> list[Finding]:
    """Findings for one server's BMC against the inventory, its profile and its lifecycle state."""
    make = maker(expected.device, Layer.BMC)
    return (
        _identity(expected, observed, make)
        + _firmware(expected, observed, make)
        + _power(expected, observed, make)
        + _health(expected, observed, make)
        + configuration_findings(expected, observed, make)
    )


def _identity(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    inv = obs.inventory
    if inv is None:
        return []
    findings = []
    if exp.serial and inv.serial and inv.serial.strip().upper() != exp.serial.strip().upper():
        hint = (
            f"the chassis at {exp.device}'s BMC address is not the one in the inventory: a board swap, or a BMC "
            "address given to the wrong server; check the label, then fix the serial or the address"
        )
        findings.append(make("serial", exp.serial, inv.serial, Severity.CRITICAL, hint))
    if exp.model and inv.model and not _same_model(exp.model, inv.model):
        hint = "the BMC reports another model than the device type: check the device type in the inventory"
        findings.append(make("model", exp.model, inv.model, Severity.WARNING, hint))
    return findings


def _same_model(expected: str, reported: str) -> bool:
    # NOTE(BMC vendors): the reported model is often a vendor SKU; accept either name containing the other.
    a, b = expected.lower(), reported.lower()
    return a in b or b in a


def _firmware(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    inv = obs.inventory
    if inv is None:
        return []
    findings = []
    for check, want, have in (("bmc-firmware", exp.bmc_firmware, inv.bmc_firmware),
                              ("bios-firmware", exp.bios_firmware, inv.bios_firmware)):  # fmt: skip
        if check.removesuffix("-firmware") in exp.firmware and obs.firmware is not None:
            continue  # the baseline's own finding (check "firmware") says it, per component
        if want and have and not same_version(want, have):
            hint = f"update {check.removesuffix('-firmware').upper()} firmware to {want} (rackctl firmware)"
            findings.append(make(check, want, have, Severity.WARNING, hint))
    return findings


def _power(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    if exp.state not in ENERGISED or obs.power in (PowerState.ON, PowerState.UNKNOWN):
        return []
    hint = (
        f"{exp.device} is {exp.state.value} but powered off, not by rackctl: find out who turned it off "
        f"(rackctl log, the BMC's event log), then rackctl power on {exp.device}"
    )
    if exp.state != NodeState.IN_SERVICE:
        hint += f", or move it to maintenance: rackctl device set {exp.device} --state maintenance"
    return [make("power", "on", obs.power.value, severity_for(exp.state), hint)]


def _health(exp: BmcExpected, obs: BmcObserved, make: MakeFinding) -> list[Finding]:
    findings = []
    if obs.health in (Health.WARNING, Health.CRITICAL):
        severity = Severity.CRITICAL if obs.health == Health.CRITICAL else Severity.WARNING
        hint = f"read the BMC's sensors and event log: rackctl sensors {exp.device}"
        findings.append(make("health", Health.OK.value, obs.health.value, severity, hint))
    critical = [e for e in obs.events if e.severity == Health.CRITICAL]
    if critical:
        latest = critical[-1]
        observed = f"{len(critical)} critical, latest {latest.timestamp}: {latest.message}"[:300]
        hint = "act on the event (PSU, DIMM, thermal ...), then clear the log so new ones stand out"
        findings.append(make("events", "no critical events", observed, Severity.WARNING, hint))
    return findings
