"""The audit's comparisons as pure functions: expected state and observed state in, findings out.

Host facts come from recorded outputs of real machines (tests/data/host); the other layers' observed
state is written the way their collectors will hand it over.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rackctl.drivers.base import HardwareInventory, LogEntry
from rackctl.drivers.hostfacts import DcgmHealth, HostFacts, LldpNeighbor, Nic, UnitState, bonding, nvidia_smi
from rackctl.drivers.hostfacts.kernel import parse_xids
from rackctl.services.audit.compare_bmc import compare_bmc
from rackctl.services.audit.compare_cabling import compare_cabling
from rackctl.services.audit.compare_host import compare_host, gpu_model_matches
from rackctl.services.audit.compare_pdu import compare_feeds, compare_pdu
from rackctl.services.audit.compare_switch import compare_switch
from rackctl.services.audit.state import (
    DCGM_UNIT,
    FABRICMANAGER_UNIT,
    BmcExpected,
    BmcObserved,
    BondPlan,
    CablingExpected,
    CablingObserved,
    FeedPlan,
    HostExpected,
    LinkPlan,
    NicPlan,
    OutletPlan,
    PduExpected,
    PduObserved,
    SwitchExpected,
    SwitchObserved,
)
from rackctl.services.switch.diff import config_diff
from rackctl.types import Finding, Health, Layer, NodeState, PowerState, Severity
from rackctl.versions import same_version, version_at_least

DATA = Path(__file__).resolve().parent.parent / "data" / "host"
DRIVER = "565.57.01"  # the recorded HGX H100's driver


def checks(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.check, f.subject) for f in findings]


@pytest.fixture
def expected() -> HostExpected:
    return HostExpected(
        device="gpu-r12-u03", state=NodeState.IN_SERVICE, gpu_model="H100-SXM5-80GB", gpu_count=8,
        nvidia_driver=DRIVER, fabric_manager=DRIVER, cuda="12.7", dcgm="4.2.3", serving_runtime="vllm",
        serving_unit="vllm.service", serving_port=8000,
        bonds=(BondPlan("bond0", "802.3ad", ("e1", "e2"), 9000),),
        nics=(NicPlan("e1", 10000, 9000, 0), NicPlan("e2", 10000, 9000, 0)),
    )  # fmt: skip


@pytest.fixture
def facts() -> HostFacts:
    """The recorded H100 node, healthy and as planned."""
    units = {u: UnitState(u, "loaded", "active", "running") for u in (FABRICMANAGER_UNIT, DCGM_UNIT, "vllm.service")}
    nics = {n: Nic(n, 9000, "up", 10000, 0, "bond0", True) for n in ("e1", "e2")} | {"bond0": Nic("bond0", 9000, "up")}
    return HostFacts(
        hostname="gpu-r12-u03", kernel="6.8.0-60-generic",
        gpus=nvidia_smi.parse_xml((DATA / "nvidia-smi/h100-sxm5-8gpu-565.xml").read_text()),
        driver_loaded=DRIVER, driver_installed=DRIVER,
        packages={"nvidia-fabricmanager-565": DRIVER, "datacenter-gpu-manager-4-core": "4.2.3",
                  "cuda-toolkit-12-7": "12.7.1"},
        units=units, dcgm=DcgmHealth("Healthy"), nics=nics,
        bonds={"bond0": bonding.parse_bond("bond0", (DATA / "bonding/802.3ad-healthy-kernel-6.8.txt").read_text())},
        lldp=(), serving_http=200,
    )  # fmt: skip


def test_a_node_as_planned_has_no_findings(expected: HostExpected, facts: HostFacts) -> None:
    assert compare_host(expected, facts) == []


def test_wrong_driver_loaded_is_critical_and_says_how_to_fix(expected: HostExpected, facts: HostFacts) -> None:
    drifted = replace(facts, driver_loaded="570.124.06", driver_installed="570.124.06")
    found = compare_host(expected, drifted)
    driver = next(f for f in found if f.check == "nvidia-driver")
    assert (driver.expected, driver.observed, driver.severity) == (DRIVER, "570.124.06 loaded", Severity.CRITICAL)
    assert "rackctl provision gpu-r12-u03 --tags gpu_driver" in driver.hint
    # Fabric Manager stayed at the old version: it no longer matches the driver.
    assert ("fabricmanager-version", "") in checks(found)


def test_pinned_driver_installed_but_old_one_loaded_asks_for_a_reboot(expected: HostExpected, facts: HostFacts) -> None:
    found = compare_host(expected, replace(facts, driver_loaded="550.90.07"))
    driver = next(f for f in found if f.check == "nvidia-driver")
    assert "reboot" in driver.hint and driver.observed == "550.90.07 loaded"


def test_nvidia_smi_version_mismatch_is_reported_with_its_message(expected: HostExpected, facts: HostFacts) -> None:
    error = nvidia_smi.failure((DATA / "nvidia-smi/driver-mismatch.txt").read_text())
    found = compare_host(expected, replace(facts, gpus=None, smi_error=error, driver_loaded=""))
    (smi,) = [f for f in found if f.check == "nvidia-smi"]
    assert smi.observed == "Failed to initialize NVML: Driver/library version mismatch"
    assert "reboot" in smi.hint and ("gpu-count", "") not in checks(found)


def test_seven_of_eight_gpus_names_the_ones_left(expected: HostExpected, facts: HostFacts) -> None:
    assert facts.gpus is not None
    seven = replace(facts.gpus, attached=7, gpus=facts.gpus.gpus[:3] + facts.gpus.gpus[4:])
    (finding,) = compare_host(expected, replace(facts, gpus=seven))
    assert (finding.check, finding.expected, finding.severity) == ("gpu-count", "8", Severity.CRITICAL)
    assert finding.observed == "7 (bus 18, 2A, 3A, 9A, AB, BA, DB)"
    assert "XID 79" in finding.hint and "7 of 8" in finding.hint


def test_gpu_model_other_than_the_device_type(expected: HostExpected, facts: HostFacts) -> None:
    assert gpu_model_matches("H100-SXM5-80GB", "NVIDIA H100 80GB HBM3")
    assert gpu_model_matches("L40S-48GB", "NVIDIA L40S")
    assert not gpu_model_matches("H100-SXM5-80GB", "NVIDIA H100 PCIe")
    assert not gpu_model_matches("A100-SXM4-80GB", "NVIDIA A100-SXM4-40GB")
    found = compare_host(replace(expected, gpu_model="L40S-48GB"), facts)
    assert checks(found) == [("gpu-model", bus) for bus in ("18", "2A", "3A", "5D", "9A", "AB", "BA", "DB")]


def test_fabric_manager_stopped(expected: HostExpected, facts: HostFacts) -> None:
    units = facts.units | {FABRICMANAGER_UNIT: UnitState(FABRICMANAGER_UNIT, "loaded", "inactive", "dead")}
    (finding,) = compare_host(expected, replace(facts, units=units))
    assert (finding.check, finding.subject, finding.observed) == ("service", FABRICMANAGER_UNIT, "inactive (dead)")
    assert "systemctl start nvidia-fabricmanager" in finding.hint


def test_gpus_outside_the_nvlink_fabric(expected: HostExpected, facts: HostFacts) -> None:
    assert facts.gpus is not None
    gpus = (replace(facts.gpus.gpus[0], fabric_state="In Progress", fabric_status="N/A"), *facts.gpus.gpus[1:])
    (finding,) = compare_host(expected, replace(facts, gpus=replace(facts.gpus, gpus=gpus)))
    assert (finding.check, finding.subject, finding.observed) == ("gpu-fabric", "18", "In Progress / N/A")


def test_xids_group_by_gpu_and_code_with_severity(expected: HostExpected, facts: HostFacts) -> None:
    fell_off = "[ 812.1] NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.\n"
    lines = (DATA / "kernel/xid-dmesg.txt").read_text() + fell_off
    found = compare_host(expected, replace(facts, xids=parse_xids(lines)))
    assert [(f.subject, f.severity) for f in found] == [
        ("0000:01:00 xid 32", Severity.WARNING), ("0000:18:00 xid 79", Severity.CRITICAL),
    ]  # fmt: skip
    assert found[0].observed.startswith("XID 32 x3:") and "power-cycle" in found[1].hint


def test_dcgm_incidents_reach_the_hint(expected: HostExpected, facts: HostFacts) -> None:
    health = DcgmHealth("Failure", ("GPU 5 Memory system: Failure - A DBE has occurred for GPU 5.",))
    (finding,) = compare_host(expected, replace(facts, dcgm=health))
    assert (finding.check, finding.severity) == ("dcgm-health", Severity.CRITICAL) and "DBE" in finding.hint


def test_cuda_and_dcgm_versions(expected: HostExpected, facts: HostFacts) -> None:
    found = compare_host(replace(expected, cuda="12.8", dcgm="4.3.0"), facts)
    assert checks(found) == [("cuda", ""), ("dcgm-version", "")]
    no_toolkit = {k: v for k, v in facts.packages.items() if not k.startswith("cuda-toolkit")}
    found = compare_host(replace(expected, cuda="12.8"), replace(facts, packages=no_toolkit))
    assert [(f.check, f.observed) for f in found] == [("cuda", "12.7")]  # the driver supports 12.7 only


def test_serving_runtime_down_and_unit_missing(expected: HostExpected, facts: HostFacts) -> None:
    units = facts.units | {"vllm.service": UnitState("vllm.service", "not-found", "inactive", "dead")}
    found = compare_host(expected, replace(facts, units=units, serving_http=0))
    assert [(f.check, f.observed) for f in found] == [("service", "not installed"), ("serving-health", "no answer")]


def test_mtu_changed_on_the_bond_and_a_member(expected: HostExpected, facts: HostFacts) -> None:
    nics = facts.nics | {"bond0": Nic("bond0", 1500, "up"), "e1": replace(facts.nics["e1"], mtu=9216)}
    found = compare_host(expected, replace(facts, nics=nics))
    assert [(f.subject, f.observed, f.severity) for f in found] == [
        ("bond0", "1500", Severity.CRITICAL), ("e1", "9216", Severity.WARNING),
    ]  # fmt: skip


def test_bond_without_lacp_partner_and_member_down(expected: HostExpected, facts: HostFacts) -> None:
    text = (DATA / "bonding/802.3ad-no-partner-centos7.txt").read_text()
    bond = bonding.parse_bond("bond0", text)
    plan = replace(expected, bonds=(BondPlan("bond0", "802.3ad", ("enp1s0f0", "enp1s0f1"), None),), nics=())
    found = compare_host(plan, replace(facts, bonds={"bond0": bond}))
    assert checks(found) == [("bond-member-link", "enp1s0f0"), ("bond-lacp", "bond0")]


def test_bond_member_not_distributing(expected: HostExpected, facts: HostFacts) -> None:
    bond = bonding.parse_bond("bond0", (DATA / "bonding/802.3ad-member-not-distributing-25g.txt").read_text())
    plan = replace(expected, bonds=(BondPlan("bond0", "802.3ad", ("eth0", "eth1"), None),), nics=())
    (finding,) = compare_host(plan, replace(facts, bonds={"bond0": bond}))
    assert (finding.check, finding.subject, finding.observed) == ("bond-lacp", "eth1", "actor port state 15")


def test_bond_mode_members_absent_ports_link_speed_and_vfs(expected: HostExpected, facts: HostFacts) -> None:
    rr = bonding.parse_bond("bond0", (DATA / "bonding/balance-rr-rhel.txt").read_text())
    nics = {"e1": replace(facts.nics["e1"], speed_mbps=1000, sriov_vfs=4), "bond0": facts.nics["bond0"]}
    found = compare_host(expected, replace(facts, bonds={"bond0": rr}, nics=nics))
    assert checks(found) == [
        ("bond-mode", "bond0"), ("bond-members", "bond0"), ("link-speed", "e1"), ("sriov-vfs", "e1"), ("nic", "e2"),
    ]  # fmt: skip
    found = compare_host(expected, replace(facts, bonds={}))
    assert [(f.check, f.observed) for f in found] == [("bond", "absent")]


def test_link_down_on_a_cabled_port(expected: HostExpected, facts: HostFacts) -> None:
    nics = facts.nics | {"e2": replace(facts.nics["e2"], operstate="down", link_detected=False)}
    assert checks(compare_host(expected, replace(facts, nics=nics))) == [("link", "e2")]


# ---- BMC --------------------------------------------------------------------------------------

BMC = BmcExpected("gpu-r12-u03", NodeState.IN_SERVICE, "S123", "HGX H100 8-GPU SXM5 server", "1.02.04", "2.4.1")
INVENTORY = HardwareInventory("Supermicro", "HGX H100 8-GPU SXM5 server", "S123", "1.02.04", "2.4.1")


def test_power_changed_behind_rackctls_back() -> None:
    (finding,) = compare_bmc(BMC, BmcObserved(INVENTORY, PowerState.OFF, Health.OK))
    assert (finding.layer, finding.check, finding.expected, finding.observed) == (Layer.BMC, "power", "on", "off")
    assert finding.severity == Severity.CRITICAL and "rackctl power on gpu-r12-u03" in finding.hint
    assert compare_bmc(replace(BMC, state=NodeState.RACKED), BmcObserved(INVENTORY, PowerState.OFF)) == []
    found = compare_bmc(replace(BMC, state=NodeState.VALIDATED), BmcObserved(INVENTORY, PowerState.OFF))
    assert found[0].severity == Severity.WARNING and "maintenance" in found[0].hint


def test_bmc_identity_firmware_health_and_events() -> None:
    events = (LogEntry("1", "2026-11-23T10:00:00Z", Health.CRITICAL, "PSU2 failure detected"),)
    observed = BmcObserved(replace(INVENTORY, serial="S999", bios_firmware="2.3.0", model="SYS-821GE-TNHR"),
                           PowerState.ON, Health.CRITICAL, events)  # fmt: skip
    found = compare_bmc(BMC, observed)
    assert checks(found) == [("serial", ""), ("model", ""), ("bios-firmware", ""), ("health", ""), ("events", "")]
    assert "PSU2 failure" in found[-1].observed
    assert compare_bmc(BMC, BmcObserved(INVENTORY, PowerState.ON, Health.OK)) == []


# ---- switch -----------------------------------------------------------------------------------

RENDERED = Path(__file__).resolve().parent.parent / "data" / "switch" / "expected"


def _intent(platform: str, name: str) -> SwitchExpected:
    return SwitchExpected(name, platform, (RENDERED / platform / f"{name}.cfg").read_text())


def _edit(text: str, block: str, old: str, new: str) -> str:
    """The config with one line of one block changed (or added after the head when `old` is "")."""
    head, _, rest = text.partition(block + "\n")
    assert rest, f"no block {block!r}"
    changed = rest.replace(old, new, 1) if old else f"{new}\n{rest}"
    return head + block + "\n" + changed


def test_switch_as_rendered_and_a_ports_mtu_changed() -> None:
    leaf = _intent("linux", "leaf-lx-a")
    assert compare_switch(leaf, SwitchObserved(leaf.intended)) == []
    running = _edit(leaf.intended, "iface swp2", "    mtu 9216", "    mtu 1500")
    (finding,) = compare_switch(leaf, SwitchObserved(running))
    assert (finding.layer, finding.check, finding.subject) == (Layer.SWITCH, "mtu", "swp2")
    assert (finding.expected, finding.observed, finding.severity) == ("9216", "1500", Severity.CRITICAL)
    assert finding.hint == (
        "leaf-lx-a swp2 has 'mtu 1500', the inventory's intent 'mtu 9216': rackctl switch diff/push leaf-lx-a"
    )


def test_eos_per_port_settings_missing_blocks_and_unmanaged_blocks() -> None:
    leaf = _intent("eos", "leaf-eo-a")
    running = _edit(leaf.intended, "interface Ethernet2/1", "mtu 9216", "mtu 9000")
    running = _edit(running, "interface Ethernet2/1", "channel-group 2 mode active", "channel-group 3 mode active")
    running = _edit(running, "interface Ethernet2/1", "", "   shutdown")
    running = _edit(running, "interface Port-Channel1", "allowed vlan 300,301", "allowed vlan 300")
    running = running.replace("interface Port-Channel2\n", "interface Port-Channel9\n")
    running += "interface Management1\n   ip address 10.201.0.10/26\n!\n"  # not managed: not compared
    found = compare_switch(leaf, SwitchObserved(running))
    assert [(f.check, f.subject, f.expected, f.observed, f.severity) for f in found] == [
        ("switchport trunk allowed vlan", "Port-Channel1", "300,301", "300", Severity.WARNING),
        ("config", "Port-Channel2", "configured", "absent", Severity.CRITICAL),
        ("mtu", "Ethernet2/1", "9216", "9000", Severity.CRITICAL),
        ("channel-group", "Ethernet2/1", "2 mode active", "3 mode active", Severity.WARNING),
        ("shutdown", "Ethernet2/1", "not set", "set", Severity.WARNING),
    ]
    assert found[4].hint.startswith("leaf-eo-a Ethernet2/1 has 'shutdown', the inventory's intent 'no shutdown'")


def test_a_linux_switch_file_is_compared_whole() -> None:
    leaf = _intent("linux", "leaf-lx-a")
    extra = leaf.intended + "\nauto swp9\niface swp9\n    mtu 1500\n"
    (finding,) = compare_switch(leaf, SwitchObserved(extra))
    assert (finding.check, finding.subject, finding.expected, finding.observed) == (
        "config", "swp9", "absent", "configured"
    )  # fmt: skip
    assert "a push removes it" in finding.hint
    stanzas = leaf.intended.split("\n\n")
    reordered = "\n\n".join([stanzas[0], stanzas[2], stanzas[1], *stanzas[3:]])
    (whole,) = compare_switch(leaf, SwitchObserved(reordered))  # same lines in another order: the diff says where
    assert (whole.check, whole.subject, whole.observed) == ("config", "", "differs")


@pytest.mark.parametrize("platform, name", [("cumulus", "leaf-cu-a"), ("sonic", "leaf-so-a"), ("onyx", "ib-p1-1")])
def test_platforms_without_blocks_give_one_finding_for_the_configuration(platform: str, name: str) -> None:
    leaf = _intent(platform, name)
    assert compare_switch(leaf, SwitchObserved(leaf.intended)) == []
    (finding,) = compare_switch(leaf, SwitchObserved(""))
    assert (finding.check, finding.expected, finding.observed) == ("config", "as rendered", "differs")
    assert f"rackctl switch diff/push {name}" in finding.hint


@pytest.mark.parametrize("platform", ["eos", "nxos", "linux", "cumulus", "sonic", "onyx"])
def test_switch_findings_exactly_when_switch_diff_shows_something(platform: str) -> None:
    for path in sorted((RENDERED / platform).glob("*.cfg")):
        leaf = _intent(platform, path.stem)
        lines = leaf.intended.splitlines(keepends=True)
        for running in (leaf.intended, "", "".join(lines[:-3]), "".join(lines[3:]), leaf.intended + "x 1\n"):
            diff = config_diff(platform, running, leaf.intended)
            assert bool(compare_switch(leaf, SwitchObserved(running))) == bool(diff), (path.name, running[-40:])


# ---- cabling ----------------------------------------------------------------------------------

NODE_CABLES = CablingExpected("gpu-r12-u03", (
    LinkPlan("ens1f0np0", "leaf-r12-a", "Ethernet1/1"),
    LinkPlan("ens1f1np1", "leaf-r12-b", "Ethernet1/1"),
    LinkPlan("eno1", "mgmt-r12", "swp17"),
))  # fmt: skip


def _lldp(*seen: tuple[str, str, str]) -> CablingObserved:
    return CablingObserved(tuple(LldpNeighbor(i, s, p, "ifname", p) for i, s, p in seen))


def test_cables_as_planned_even_with_fqdn_system_names() -> None:
    seen = _lldp(
        ("ens1f0np0", "leaf-r12-a.fra1.example.net", "Ethernet1/1"),
        ("ens1f1np1", "LEAF-R12-B", "Ethernet1/1"),
        ("eno1", "mgmt-r12", "swp17"),
    )
    assert compare_cabling(NODE_CABLES, seen) == []


def test_two_cables_swapped() -> None:
    seen = _lldp(("ens1f0np0", "leaf-r12-b", "Ethernet1/1"), ("ens1f1np1", "leaf-r12-a", "Ethernet1/1"),
                 ("eno1", "mgmt-r12", "swp17"))  # fmt: skip
    found = compare_cabling(NODE_CABLES, seen)
    assert [(f.layer, f.check, f.subject, f.observed) for f in found] == [
        (Layer.CABLING, "cable", "ens1f0np0", "leaf-r12-b Ethernet1/1"),
        (Layer.CABLING, "cable", "ens1f1np1", "leaf-r12-a Ethernet1/1"),
    ]
    assert found[0].hint.startswith("gpu-r12-u03 ens1f0np0 and ens1f1np1 are swapped: swap the two cables")


def test_a_cable_in_the_wrong_port_no_neighbour_and_an_unplanned_cable() -> None:
    seen = _lldp(
        ("ens1f0np0", "leaf-r12-a", "Ethernet1/14"), ("eno2", "mgmt-r12", "swp40"), ("eno1", "mgmt-r12", "swp17")
    )
    found = compare_cabling(NODE_CABLES, seen)
    assert [(f.check, f.subject, f.severity) for f in found] == [
        ("cable", "ens1f0np0", Severity.CRITICAL),
        ("lldp-neighbor", "ens1f1np1", Severity.WARNING),
        ("unplanned-cable", "eno2", Severity.INFO),
    ]
    assert found[0].hint == ("gpu-r12-u03 ens1f0np0 is in leaf-r12-a Ethernet1/14; the plan says Ethernet1/1: move it")


# ---- PDU --------------------------------------------------------------------------------------

PDU = PduExpected("pdu-r12-a1", "A", 36227.0, (
    OutletPlan(7, "gpu-r12-u03 PSU1", NodeState.IN_SERVICE, True),
    OutletPlan(8, "gpu-r12-u11 PSU1", NodeState.RACKED, False),
    OutletPlan(9, "gpu-r12-u19 PSU1", NodeState.PROVISIONED, True),
))  # fmt: skip


def test_an_outlet_feeding_an_in_service_node_turned_off() -> None:
    observed = PduObserved({7: PowerState.OFF, 8: PowerState.OFF, 9: PowerState.ON}, load_w=9000.0)
    (finding,) = compare_pdu(PDU, observed)
    assert (finding.layer, finding.check, finding.subject, finding.observed) == (Layer.PDU, "outlet", "7", "off")
    assert finding.severity == Severity.CRITICAL and "rackctl pdu on pdu-r12-a1:7" in finding.hint
    assert "gpu-r12-u03 PSU1" in finding.hint


def test_outlet_off_on_a_node_in_bring_up_is_a_warning_and_pdu_overload() -> None:
    found = compare_pdu(PDU, PduObserved({7: PowerState.ON, 9: PowerState.OFF}, load_w=40000.0))
    assert [(f.check, f.severity) for f in found] == [("outlet", Severity.WARNING), ("pdu-load", Severity.CRITICAL)]


def test_feed_budget_and_ab_redundancy() -> None:
    plan = FeedPlan("r12", {"A": 30000.0, "B": 30000.0}, {"A": ("pdu-r12-a1", "pdu-r12-a2"), "B": ("pdu-r12-b1",)})
    observed = {"pdu-r12-a1": PduObserved(load_w=12000.0), "pdu-r12-a2": PduObserved(load_w=10000.0),
                "pdu-r12-b1": PduObserved(load_w=20000.0)}  # fmt: skip
    found = compare_feeds(plan, observed)
    assert [(f.device, f.check, f.subject, f.observed) for f in found] == [
        ("pdu-r12-a1", "redundancy", "A", "42000 W"), ("pdu-r12-b1", "redundancy", "B", "42000 W"),
    ]  # fmt: skip
    observed["pdu-r12-a2"] = PduObserved(load_w=20000.0)
    assert ("feed-load", "A") in checks(compare_feeds(plan, observed))
    small = {k: PduObserved(load_w=5000.0) for k in observed}
    assert compare_feeds(plan, small) == []


def test_versions() -> None:
    assert same_version("12.8", "12.8.1") and same_version("570.133.20", "570.133.20")
    assert not same_version("570.133.20", "570.133.2") and not same_version("12.8", "12.80")
    assert version_at_least("12.8", "12.7") and not version_at_least("12.4", "12.8")
