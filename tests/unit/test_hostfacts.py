"""Host fact parsers on recorded outputs of real machines (tests/data/host, see PROVENANCE.md), and
hypothesis for robustness: parsers never raise, whatever a host prints."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rackctl.drivers.hostfacts import bonding, dcgm, kernel, lldp, net, nvidia_smi, system
from rackctl.drivers.hostfacts.probe import parse_output, split_sections

DATA = Path(__file__).resolve().parent.parent / "data" / "host"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_nvidia_smi_xml_of_an_hgx_h100_lists_eight_gpus_in_the_nvlink_fabric() -> None:
    report = nvidia_smi.parse_xml(read("nvidia-smi/h100-sxm5-8gpu-565.xml"))
    assert report is not None
    assert (report.driver_version, report.cuda_version, report.attached) == ("565.57.01", "12.7", 8)
    assert [g.bus_id[9:11] for g in report.gpus] == ["18", "2A", "3A", "5D", "9A", "AB", "BA", "DB"]
    assert {g.name for g in report.gpus} == {"NVIDIA H100 80GB HBM3"}
    assert report.gpus[5].serial == "1654323021387"
    assert report.gpus[7].uuid == "GPU-33135771-a848-ece1-b61e-489e221d663c"
    assert {(g.fabric_state, g.fabric_status) for g in report.gpus} == {("Completed", "Success")}


def test_nvidia_smi_xml_of_a_575_driver_laptop_reads_na_serial_as_empty() -> None:
    report = nvidia_smi.parse_xml(read("nvidia-smi/rtx4070-laptop-575.xml"))
    assert report is not None
    assert report.driver_version == "575.51.02" and report.cuda_version == "12.9"
    (gpu,) = report.gpus
    assert gpu.name == "NVIDIA GeForce RTX 4070 Laptop GPU" and gpu.serial == "" and gpu.fabric_state == "N/A"


def test_nvidia_smi_xml_after_a_warning_line_still_parses() -> None:
    text = "WARNING: infoROM is corrupted at gpu 0000:18:00.0\n" + read("nvidia-smi/h100-sxm5-8gpu-565.xml")
    report = nvidia_smi.parse_xml(text)
    assert report is not None and len(report.gpus) == 8


def test_nvidia_smi_csv_matches_the_xml_of_the_same_machine() -> None:
    csv_report = nvidia_smi.parse_csv(read("nvidia-smi/h100-sxm5-8gpu-565.csv"))
    xml_report = nvidia_smi.parse_xml(read("nvidia-smi/h100-sxm5-8gpu-565.xml"))
    assert csv_report is not None and xml_report is not None
    assert csv_report.driver_version == "565.57.01"
    assert [(g.bus_id, g.serial, g.uuid) for g in csv_report.gpus] == [
        (g.bus_id, g.serial, g.uuid) for g in xml_report.gpus
    ]


def test_nvidia_smi_failures_give_their_first_line() -> None:
    assert nvidia_smi.parse_xml(read("nvidia-smi/driver-mismatch.txt")) is None
    assert nvidia_smi.failure(read("nvidia-smi/driver-mismatch.txt")).endswith("Driver/library version mismatch")
    assert "couldn't communicate with the NVIDIA driver" in nvidia_smi.failure(read("nvidia-smi/no-driver.txt"))


def test_bonding_healthy_802_3ad_on_kernel_6_8() -> None:
    bond = bonding.parse_bond("bond0", read("bonding/802.3ad-healthy-kernel-6.8.txt"))
    assert (bond.mode, bond.hash_policy, bond.lacp_rate, bond.aggregator_id) == ("802.3ad", "layer2+3", "fast", "1")
    assert bond.partner_mac == "02:fc:ce:91:32:14"
    assert [(m.name, m.mii_up, m.speed_mbps, m.actor_state, m.partner_state) for m in bond.members] == [
        ("e1", True, 10000, 63, 63),
        ("e2", True, 10000, 63, 63),
    ]


def test_bonding_member_in_sync_but_not_distributing() -> None:
    bond = bonding.parse_bond("bond0", read("bonding/802.3ad-member-not-distributing-25g.txt"))
    assert [(m.name, m.actor_state, m.partner_state) for m in bond.members] == [("eth0", 63, 63), ("eth1", 15, 31)]


def test_bonding_without_lacp_partner_and_a_member_down() -> None:
    bond = bonding.parse_bond("bond0", read("bonding/802.3ad-no-partner-centos7.txt"))
    assert bond.partner_mac == "00:00:00:00:00:00" and bond.aggregator_id == "2"
    assert [(m.name, m.mii_up, m.aggregator_id, m.speed_mbps) for m in bond.members] == [
        ("enp1s0f0", False, "1", None),
        ("enp1s0f1", True, "2", 1000),
    ]


def test_bonding_round_robin_and_the_probe_section_with_several_files() -> None:
    text = "==> bond0 <==\n" + read("bonding/balance-rr-rhel.txt") + "==> bond1 <==\n"
    text += read("bonding/802.3ad-healthy-kernel-6.8.txt")
    bonds = bonding.parse_section(text)
    assert bonds["bond0"].mode == "balance-rr" and [m.name for m in bonds["bond0"].members] == ["eno1", "eno2"]
    assert bonds["bond1"].mode == "802.3ad" and len(bonds["bond1"].members) == 2


def test_lldpctl_json_list_form_with_ifname_and_local_ports() -> None:
    neighbors = lldp.parse(read("lldp/netlab-two-ports-list.json"))
    assert neighbors is not None
    assert [(n.interface, n.system_name, n.port_id, n.port_id_type) for n in neighbors] == [
        ("eno1", "netlab-leaf2", "swp1", "ifname"),
        ("eno3", "netlab-mgmt0", "Ethernet2", "local"),
    ]
    assert neighbors[1].port_descr == "netlab-server : OS"


def test_lldpctl_json_single_neighbour_object_form() -> None:
    neighbors = lldp.parse(read("lldp/pica8-single-object.json"))
    assert neighbors is not None
    (only,) = neighbors
    assert (only.interface, only.system_name, only.port_id, only.chassis_id) == (
        "eth0", "B2-Tor", "ge-1/1/28", "cc:37:ab:60:cd:c1",
    )  # fmt: skip


def test_lldpctl_json0_form_and_no_neighbours() -> None:
    neighbors = lldp.parse(read("lldp/nexus-json0.json"))
    assert neighbors is not None
    assert [(n.interface, n.system_name, n.port_id) for n in neighbors] == [
        ("enp129s0f0", "DaoCloud_ShangPu_H3C_D01_AccessSwitch", "GigabitEthernet1/0/21")
    ]
    assert lldp.parse(read("lldp/no-neighbors.json")) == ()
    assert lldp.parse("lldpctl: unable to connect to lldpd daemon") is None


def test_dcgmi_health_healthy_and_with_incidents() -> None:
    healthy = dcgm.parse(read("dcgm/health-healthy.txt"))
    assert healthy is not None and healthy.overall == "Healthy" and healthy.incidents == ()
    report = dcgm.parse(read("dcgm/health-pcie-warning-dbe-failure.txt"))
    assert report is not None and report.overall == "Warning"
    assert report.incidents[0].startswith("GPU 0 PCIe system: Warning - Detected more than 8 PCIe replays")
    assert report.incidents[0].endswith("verify hops off the GPU board.")
    assert report.incidents[1] == "GPU 5 Memory system: Failure - A DBE has occurred for GPU 5."
    assert dcgm.parse(read("dcgm/health-watches-not-enabled.txt")) is None


def test_kernel_xid_lines_and_driver_versions() -> None:
    events = kernel.parse_xids(read("kernel/xid-dmesg.txt"))
    assert [(e.bus, e.code) for e in events] == [("0000:01:00", 32)] * 3
    assert kernel.loaded_driver(read("kernel/proc-driver-nvidia-version-open.txt")) == "570.133.20"
    assert kernel.loaded_driver(read("kernel/proc-driver-nvidia-version.txt")) == "535.183.01"
    assert kernel.loaded_driver("cat: /proc/driver/nvidia/version: No such file or directory") == ""
    assert kernel.installed_driver("570.133.20\n") == "570.133.20"
    assert kernel.installed_driver("modinfo: ERROR: Module nvidia not found.") == ""


def test_systemctl_show_blocks_and_package_versions() -> None:
    units = system.parse_units(read("systemd/show-units.txt"))
    assert units["nvidia-fabricmanager.service"].running
    assert (units["nvidia-dcgm.service"].active, units["vllm.service"].load) == ("failed", "not-found")
    packages = system.parse_packages(
        "ii  nvidia-fabricmanager-570 570.133.20-1\nii  datacenter-gpu-manager-4-core 1:4.2.3-1\n"
        "rc  cuda-toolkit-12-4 12.4.1-1\nii  cuda-toolkit-12-8 12.8.1-1\n"
    )
    assert packages == {
        "nvidia-fabricmanager-570": "570.133.20",
        "datacenter-gpu-manager-4-core": "4.2.3",
        "cuda-toolkit-12-8": "12.8.1",
    }


def test_ethtool_speed_and_link() -> None:
    assert net.parse_ethtool(read("ethtool/cx7-400g.txt")) == (400000, True)
    assert net.parse_ethtool(read("ethtool/no-link.txt")) == (None, False)
    assert net.parse_ethtool("Settings for eth0:\n    Speed: 100Gb/s\n") == (100000, None)


def test_sysfs_lines_with_unreadable_attributes() -> None:
    nics = net.parse_sysfs(
        "bond0 mtu=9000 oper=up speed=- vfs=- master=\n"
        "ens1f0np0 mtu=9000 oper=up speed=400000 vfs=8 master=bond0\n"
        "ens1f1np1 mtu=9000 oper=down speed=-1 vfs=0 master=bond0\n"
    )
    assert nics["bond0"].speed_mbps is None and nics["bond0"].sriov_vfs is None
    assert (nics["ens1f0np0"].speed_mbps, nics["ens1f0np0"].sriov_vfs, nics["ens1f0np0"].master) == (400000, 8, "bond0")
    assert nics["ens1f1np1"].operstate == "down" and nics["ens1f1np1"].speed_mbps is None


def _probe_output(sections: dict[str, tuple[str, int]]) -> str:
    return "".join(f"\n@@rackctl@@ {name}\n{text}\n@@rackctl-rc@@ {rc}\n" for name, (text, rc) in sections.items())


def test_probe_output_assembles_facts_and_names_missing_tools() -> None:
    output = _probe_output({
        "kernel": ("6.8.0-60-generic", 0),
        "nvidia-smi-xml": (read("nvidia-smi/h100-sxm5-8gpu-565.xml"), 0),
        "driver-loaded": (read("kernel/proc-driver-nvidia-version-open.txt"), 0),
        "units": (read("systemd/show-units.txt"), 0),
        "dcgm-health": ("sh: 1: dcgmi: not found", 127),
        "bonding": ("==> bond0 <==\n" + read("bonding/802.3ad-healthy-kernel-6.8.txt"), 0),
        "ethtool e1": (read("ethtool/cx7-400g.txt"), 0),
        "lldp": ("sh: 1: lldpctl: not found", 127),
    })  # fmt: skip
    facts = parse_output(output)
    assert facts.kernel == "6.8.0-60-generic" and facts.driver_loaded == "570.133.20"
    assert facts.gpus is not None and len(facts.gpus.gpus) == 8
    assert facts.bonds["bond0"].mode == "802.3ad" and facts.nics["e1"].speed_mbps == 400000
    assert facts.lldp is None and facts.lldp_error == "lldpctl is not installed"
    assert facts.missing_tools == ("dcgmi", "lldpctl")
    assert facts.serving_http is None


def test_probe_output_cut_short_keeps_what_arrived() -> None:
    sections = split_sections("\n@@rackctl@@ kernel\n6.8.0\n@@rackctl-rc@@ 0\n\n@@rackctl@@ nvidia-smi-xml\n<nvidia_sm")
    assert sections["kernel"].text == "6.8.0" and sections["kernel"].status == 0
    assert sections["nvidia-smi-xml"].status == -1


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parsers_never_raise_on_any_text(text: str) -> None:
    nvidia_smi.parse_xml(text)
    nvidia_smi.parse_xml("<nvidia_smi_log>" + text)
    nvidia_smi.parse_csv(text)
    bonding.parse_bond("bond0", text)
    bonding.parse_section("==> bond0 <==\n" + text)
    lldp.parse(text)
    dcgm.parse(text)
    kernel.parse_xids(text)
    system.parse_units(text)
    system.parse_packages(text)
    net.parse_sysfs(text)
    net.parse_ethtool(text)
    parse_output(text)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=12))  # fmt: skip
def test_lldp_parser_never_raises_on_any_json_shape(document: object) -> None:
    import json

    lldp.parse(json.dumps({"lldp": document}))
    lldp.parse(json.dumps({"lldp": {"interface": document}}))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9]{0,12}", fullmatch=True),
            st.integers(68, 65536),
            st.sampled_from(["up", "down", "unknown"]),
            st.one_of(st.none(), st.integers(10, 800000)),
        ),
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_sysfs_lines_round_trip(ports: list[tuple[str, int, str, int | None]]) -> None:
    text = "".join(f"{n} mtu={m} oper={o} speed={s if s is not None else '-'} vfs=- master=\n" for n, m, o, s in ports)
    nics = net.parse_sysfs(text)
    assert [(n.name, n.mtu, n.operstate, n.speed_mbps) for n in nics.values()] == ports
