"""Host layer, network: bonds (mode, members, LACP partner), ports (link, speed, MTU, SR-IOV VFs)."""

from __future__ import annotations

from rackctl.drivers.hostfacts import Bond, HostFacts, Nic
from rackctl.services.audit.compare_common import MakeFinding
from rackctl.services.audit.state import BondPlan, HostExpected, NicPlan
from rackctl.types import Finding, Severity

# LACP port state bits (IEEE 802.1AX): a member carries traffic when in sync, collecting and distributing.
LACP_SYNC, LACP_COLLECTING, LACP_DISTRIBUTING = 0x08, 0x10, 0x20
LACP_WORKING = LACP_SYNC | LACP_COLLECTING | LACP_DISTRIBUTING
NO_PARTNER = "00:00:00:00:00:00"


def compare_network(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    findings: list[Finding] = []
    for bond in exp.bonds:
        findings += _bond(exp.device, bond, obs, make)
    for nic in exp.nics:
        findings += _nic(exp.device, nic, obs.nics.get(nic.name), make)
    return findings


def _bond(device: str, plan: BondPlan, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    bond = obs.bonds.get(plan.name)
    if bond is None:
        hint = f"the bond is not configured on {device}: rackctl provision {device} --tags host_network"
        return [make("bond", f"{plan.name} of {', '.join(plan.members)}", "absent", Severity.CRITICAL, hint, plan.name)]
    findings = []
    if plan.mode and bond.mode != plan.mode:
        hint = f"set bond mode {plan.mode} (netplan/ifcfg) and re-apply: rackctl provision {device} --tags host_network"
        findings.append(make("bond-mode", plan.mode, bond.mode, Severity.CRITICAL, hint, plan.name))
    members = tuple(m.name for m in bond.members)
    if sorted(members) != sorted(plan.members):
        hint = (
            f"enslave exactly {', '.join(plan.members)} to {plan.name} (rackctl provision {device} --tags host_network)"
        )
        findings.append(make("bond-members", ", ".join(plan.members), ", ".join(members) or "none",
                             Severity.CRITICAL, hint, plan.name))  # fmt: skip
    findings += _bond_mtu(device, plan, obs.nics.get(plan.name), make)
    return findings + _members_down(device, bond, make) + _lacp(device, bond, make)


def _bond_mtu(device: str, plan: BondPlan, nic: Nic | None, make: MakeFinding) -> list[Finding]:
    if plan.mtu is None or nic is None or nic.mtu is None or nic.mtu == plan.mtu:
        return []
    return [_mtu_finding(device, plan.name, plan.mtu, nic.mtu, make)]


def _mtu_finding(device: str, name: str, want: int, have: int, make: MakeFinding) -> Finding:
    # A smaller MTU than planned drops jumbo frames silently; a larger one only risks the far end.
    severity = Severity.CRITICAL if have < want else Severity.WARNING
    hint = f"set MTU {want} on {device} {name} and make it persistent (rackctl provision {device} --tags host_network)"
    return make("mtu", want, have, severity, hint, name)


def _members_down(device: str, bond: Bond, make: MakeFinding) -> list[Finding]:
    findings = []
    for member in bond.members:
        if not member.mii_up:
            hint = f"{device} {member.name} has no link: check the cable and the switch port it lands on"
            findings.append(make("bond-member-link", "up", "down", Severity.CRITICAL, hint, member.name))
    return findings


def _lacp(device: str, bond: Bond, make: MakeFinding) -> list[Finding]:
    if bond.mode != "802.3ad":
        return []
    if not bond.partner_mac or bond.partner_mac == NO_PARTNER:
        hint = (
            "no LACP partner answers: the switch ports are not in a port-channel (or sit in LACP fallback); "
            "check the leaf's port-channel for this node"
        )
        return [make("bond-lacp", "LACP partner", "none", Severity.CRITICAL, hint, bond.name)]
    findings = []
    for member in bond.members:
        problem = _member_lacp_problem(bond, member.aggregator_id, member.actor_state, member.partner_state)
        if problem and member.mii_up:
            hint = (
                f"{member.name} is not carrying traffic in the bond: the switch port is in another port-channel, "
                "mis-cabled, or LACP-suspended; check the leaf port and the cable plan"
            )
            findings.append(
                make("bond-lacp", "collecting and distributing", problem, Severity.WARNING, hint, member.name)
            )
    return findings


def _member_lacp_problem(bond: Bond, aggregator: str, actor: int | None, partner: int | None) -> str:
    if bond.aggregator_id and aggregator and aggregator != bond.aggregator_id:
        return f"in aggregator {aggregator}, not the active {bond.aggregator_id}"
    for side, state in (("actor", actor), ("partner", partner)):
        if state is not None and state & LACP_WORKING != LACP_WORKING:
            return f"{side} port state {state}"
    return ""


def _nic(device: str, plan: NicPlan, nic: Nic | None, make: MakeFinding) -> list[Finding]:
    if nic is None:
        hint = f"{device} has no port named {plan.name}: check the NIC is seated and its firmware names it so"
        return [make("nic", plan.name, "absent", Severity.CRITICAL, hint, plan.name)]
    findings = []
    if plan.cabled and (nic.operstate == "down" or nic.link_detected is False):
        hint = f"{device} {plan.name} has no link: check the cable at both ends and the switch port's state"
        findings.append(make("link", "up", "down", Severity.CRITICAL, hint, plan.name))
    elif plan.speed_mbps and nic.speed_mbps and nic.speed_mbps != plan.speed_mbps:
        hint = f"{plan.name} negotiated {nic.speed_mbps} Mb/s: check the cable or optic (ethtool -m) and the port speed"
        findings.append(make("link-speed", plan.speed_mbps, nic.speed_mbps, Severity.WARNING, hint, plan.name))
    if plan.mtu is not None and nic.mtu is not None and nic.mtu != plan.mtu:
        findings.append(_mtu_finding(device, plan.name, plan.mtu, nic.mtu, make))
    if plan.sriov_vfs is not None and (nic.sriov_vfs or 0) != plan.sriov_vfs:
        hint = (
            f"set {plan.sriov_vfs} VFs: echo {plan.sriov_vfs} > /sys/class/net/{plan.name}/device/sriov_numvfs, "
            f"persistently via rackctl provision {device} --tags host_network"
        )
        observed = "not SR-IOV capable" if nic.sriov_vfs is None else nic.sriov_vfs
        findings.append(make("sriov-vfs", plan.sriov_vfs, observed, Severity.WARNING, hint, plan.name))
    return findings
