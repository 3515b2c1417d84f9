"""What a lab persona's tools print, in the real tools' formats (see tests/data/host/ for recordings).

Deterministic: a node's serials, UUIDs and MACs derive from its name, so two runs look alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rackctl.services.audit.state import BondPlan, CablingExpected, HostExpected

# PCI buses of the eight SXM GPUs on an HGX H100 baseboard (from a recorded nvidia-smi -q).
HGX_BUSES = ("18", "2A", "3A", "5D", "9A", "AB", "BA", "DB")
# nvidia-smi's product names for the device types' GPU models.
PRODUCT_NAMES = {
    "H100-SXM5-80GB": "NVIDIA H100 80GB HBM3",
    "H100-PCIE-80GB": "NVIDIA H100 PCIe",
    "H200-SXM5-141GB": "NVIDIA H200",
    "A100-SXM4-80GB": "NVIDIA A100-SXM4-80GB",
    "L40S-48GB": "NVIDIA L40S",
}


@dataclass(frozen=True)
class LabGpu:
    index: int
    name: str
    bus_id: str
    serial: str
    uuid: str


def _digest(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def gpus(device: str, model: str, count: int) -> list[LabGpu]:
    name = PRODUCT_NAMES.get(model.upper(), f"NVIDIA {model.split('-')[0]}" if model else "NVIDIA GPU")
    found = []
    for i in range(count):
        h = _digest(device, i)
        bus = HGX_BUSES[i] if i < len(HGX_BUSES) else f"{0xE0 + i:02X}"
        uuid = f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        found.append(LabGpu(i, name, f"00000000:{bus}:00.0", "1654" + str(int(h[32:44], 16))[-9:].zfill(9), uuid))
    return found


def _gpu_xml(gpu: LabGpu, driver: str, fabric: bool) -> list[str]:
    bus = gpu.bus_id.split(":")[1]
    state, status = ("Completed", "Success") if fabric else ("N/A", "N/A")
    return [
        f'\t<gpu id="{gpu.bus_id}">',
        f"\t\t<product_name>{gpu.name}</product_name>",
        "\t\t<product_brand>NVIDIA</product_brand>",
        "\t\t<persistence_mode>Enabled</persistence_mode>",
        "\t\t<mig_mode>\n\t\t\t<current_mig>Disabled</current_mig>\n\t\t\t<pending_mig>Disabled</pending_mig>\n\t\t</mig_mode>",
        f"\t\t<serial>{gpu.serial}</serial>",
        f"\t\t<uuid>{gpu.uuid}</uuid>",
        f"\t\t<minor_number>{gpu.index}</minor_number>",
        f"\t\t<gsp_firmware_version>{driver}</gsp_firmware_version>",
        f"\t\t<pci>\n\t\t\t<pci_bus>{bus}</pci_bus>\n\t\t\t<pci_bus_id>{gpu.bus_id}</pci_bus_id>\n\t\t</pci>",
        "\t\t<performance_state>P0</performance_state>",
        f"\t\t<fabric>\n\t\t\t<state>{state}</state>\n\t\t\t<status>{status}</status>\n\t\t</fabric>",
        "\t\t<processes>\n\t\t</processes>",
        "\t</gpu>",
    ]


def nvidia_smi_xml(driver: str, cuda: str, found: Sequence[LabGpu], fabric: bool) -> str:
    lines = [
        '<?xml version="1.0" ?>',
        '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">',
        "<nvidia_smi_log>",
        "\t<timestamp>Mon Nov 23 17:00:00 2026</timestamp>",
        f"\t<driver_version>{driver}</driver_version>",
        f"\t<cuda_version>{cuda}</cuda_version>",
        f"\t<attached_gpus>{len(found)}</attached_gpus>",
    ]
    for gpu in found:
        lines += _gpu_xml(gpu, driver, fabric)
    return "\n".join([*lines, "</nvidia_smi_log>", ""])


def nvidia_smi_csv(driver: str, found: Sequence[LabGpu]) -> str:
    return "".join(f"{g.index}, {g.name}, {g.bus_id}, {g.serial}, {g.uuid}, {driver}\n" for g in found)


def proc_driver_version(driver: str) -> str:
    return (
        f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {driver}  Release Build  "
        "(dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 18:53:33 UTC 2025\n"
        "GCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n"
    )


def packages(host: HostExpected) -> str:
    """dpkg-query lines ('ii  NAME VERSION') of the NVIDIA packages the profile pins."""
    lines = []
    if host.fabric_manager:
        lines.append(f"ii  nvidia-fabricmanager-{host.fabric_manager.split('.')[0]} {host.fabric_manager}-1")
    if host.dcgm:
        lines.append(f"ii  datacenter-gpu-manager-4-core 1:{host.dcgm}-1")
    if host.cuda:
        lines.append(f"ii  cuda-toolkit-{host.cuda.replace('.', '-')} {host.cuda}.1-1")
    return "".join(line + "\n" for line in lines)


def dcgmi_health() -> str:
    """A healthy `dcgmi health -c` report, drawn as DCGM's tree renderer (28/60 columns) draws it."""
    left, right = 28, 60
    hline = "+" + "-" * (left - 1) + "+" + "-" * (right - 2) + "+\n"
    header = "| " + "Health Monitor Report".ljust(left + right - 3) + "|\n"
    row = "| " + "Overall Health".ljust(left - 3) + " | " + "Healthy".ljust(right - 4) + " |\n"
    return hline + header + hline.replace("-", "=") + row + hline


def dmesg(bus_id: str, xid: int | None) -> str:
    lines = ["[    0.000000] Linux version 6.8.0-60-generic (buildd@lcy02-amd64-098) #63-Ubuntu SMP"]
    lines.append("[   12.201934] nvidia: module verification failed: signature and/or required key missing")
    if xid is not None and bus_id:
        domain, bus = bus_id.split(":")[0][-4:], bus_id.split(":")[1].lower()
        lines.append(f"[ 8123.456789] NVRM: Xid (PCI:{domain}:{bus}:00): {xid}, pid='<unknown>', name=<unknown>, "
                     "GPU has fallen off the bus.")  # fmt: skip
    return "\n".join(lines) + "\n"


def mtus(host: HostExpected, overrides: dict[str, int]) -> dict[str, int]:
    """Each port's and bond's MTU: the plan's, then the faults' (a bond's members follow the bond)."""
    found = {n.name: n.mtu or 1500 for n in host.nics} | {b.name: b.mtu or 1500 for b in host.bonds}
    for name, mtu in overrides.items():
        found[name] = mtu
        for bond in host.bonds:
            if bond.name == name:
                found.update(dict.fromkeys(bond.members, mtu))
    return found


def _mac(*parts: object) -> str:
    h = _digest(*parts)
    return "02:" + ":".join(h[i : i + 2] for i in range(0, 10, 2))


def sysfs_port(sysnet: Path, name: str, mtu: int, oper: str, speed: int | None, vfs: int | None, master: str) -> None:
    """One /sys/class/net/NAME directory with the attributes the probe reads."""
    port = sysnet / name
    port.mkdir(parents=True, exist_ok=True)
    (port / "mtu").write_text(f"{mtu}\n")
    (port / "operstate").write_text(f"{oper}\n")
    (port / "address").write_text(f"{_mac(sysnet, name)}\n")
    if speed is not None:
        (port / "speed").write_text(f"{speed}\n")
    if vfs is not None:
        (port / "device").mkdir(exist_ok=True)
        (port / "device" / "sriov_numvfs").write_text(f"{vfs}\n")
    if master:
        (port / "master").symlink_to(f"../{master}")


def ethtool(name: str, speed: int | None) -> str:
    speed_line = f"{speed}Mb/s" if speed else "Unknown!"
    return (
        f"Settings for {name}:\n\tSupported ports: [ Backplane ]\n\tSupports auto-negotiation: Yes\n"
        f"\tSpeed: {speed_line}\n\tDuplex: Full\n\tAuto-negotiation: on\n\tPort: Direct Attach Copper\n"
        "\tPHYAD: 0\n\tTransceiver: internal\n\tLink detected: yes\n"
    )


def _member(device: str, name: str, number: int, speed: int | None, partner: str) -> list[str]:
    pdu = ["    system priority: 65535", f"    system mac address: {_mac(device, 'bond')}", "    port key: 15",
           "    port priority: 255", f"    port number: {number}", "    port state: 63"]  # fmt: skip
    partner_pdu = ["    system priority: 32768", f"    system mac address: {partner}", "    oper key: 1000",
                   "    port priority: 32768", f"    port number: {number}", "    port state: 63"]  # fmt: skip
    return [f"Slave Interface: {name}", "MII Status: up", f"Speed: {speed or 0} Mbps", "Duplex: full",
            "Link Failure Count: 0", f"Permanent HW addr: {_mac(device, name)}", "Slave queue ID: 0",
            "Aggregator ID: 1", "Actor Churn State: none", "Partner Churn State: none", "Actor Churned Count: 0",
            "Partner Churned Count: 0", "details actor lacp pdu:", *pdu, "details partner lacp pdu:", *partner_pdu,
            ""]  # fmt: skip


def bonding_file(device: str, bond: BondPlan, speeds: dict[str, int | None], cabling: CablingExpected | None) -> str:
    """/proc/net/bonding/BOND as kernel 6.8 writes it for a bond whose LACP partner (an MLAG pair) answers."""
    peers = sorted({link.peer_device for link in (cabling.links if cabling else ()) if link.interface in bond.members})
    partner = _mac("mlag", *peers)
    mode = "IEEE 802.3ad Dynamic link aggregation" if (bond.mode or "802.3ad") == "802.3ad" else bond.mode
    head = ["Ethernet Channel Bonding Driver: v6.8.0-60-generic", "", f"Bonding Mode: {mode}",
            "Transmit Hash Policy: layer3+4 (1)", "MII Status: up", "MII Polling Interval (ms): 100",
            "Up Delay (ms): 0", "Down Delay (ms): 0", "Peer Notification Delay (ms): 0", "", "802.3ad info",
            "LACP active: on", "LACP rate: fast", "Min links: 0", "Aggregator selection policy (ad_select): stable",
            "System priority: 65535", f"System MAC address: {_mac(device, 'bond')}", "Active Aggregator Info:",
            "\tAggregator ID: 1", f"\tNumber of ports: {len(bond.members)}", "\tActor Key: 15",
            "\tPartner Key: 1000", f"\tPartner Mac Address: {partner}", ""]  # fmt: skip
    for number, member in enumerate(bond.members, start=1):
        head += _member(device, member, number, speeds.get(member), partner)
    return "\n".join(head)


def _neighbor(peer_device: str, peer_interface: str) -> dict[str, Any]:
    return {
        "via": "LLDP",
        "rid": "1",
        "age": "0 day, 01:02:03",
        "chassis": {peer_device: {"id": {"type": "mac", "value": _mac(peer_device)}, "descr": "rackctl lab"}},
        "port": {"id": {"type": "ifname", "value": peer_interface}, "descr": peer_interface, "ttl": "120"},
    }


def lldp_json(cabling: CablingExpected | None, swap: tuple[str, str] | None) -> str:
    """`lldpctl -f json`: the planned neighbour on each cabled port (two ports' swapped with `swap`)."""
    links = {link.interface: (link.peer_device, link.peer_interface) for link in (cabling.links if cabling else ())}
    if swap and swap[0] in links and swap[1] in links:
        links[swap[0]], links[swap[1]] = links[swap[1]], links[swap[0]]
    entries = [{name: _neighbor(*peer)} for name, peer in links.items()]
    # NOTE(lldpd json): a single neighbour is an object, several are a list.
    interface: Any = entries[0] if len(entries) == 1 else entries
    return json.dumps({"lldp": {"interface": interface}} if entries else {"lldp": {}}, indent=2) + "\n"
