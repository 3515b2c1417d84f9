"""Ansible filters of the rackctl roles: parsers of NVIDIA tools' output and package metadata, run on the controller.

Pure functions of text, so each is tested against recorded outputs (tests/unit/test_role_filters.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

_SIZE_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+\S+\s+\S+\s+-?\d+\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
_THROTTLES = ("hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "sw_thermal_slowdown")
_XID = re.compile(r"NVRM: Xid \(PCI:([0-9a-fA-F:.]+)\): (\d+)")


def _stanzas(text: str) -> list[dict[str, str]]:
    found = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", block, re.MULTILINE))
        if fields:
            found.append(fields)
    return found


def module_drivers(apt_show: str, common: str) -> list[str]:
    """Driver versions the builds of a precompiled module package carry (from `apt-cache show PKG`)."""
    drivers = []
    for stanza in _stanzas(apt_show):
        match = re.search(re.escape(common) + r"\s*\(>=\s*([^)\s]+)\)", stanza.get("Depends", ""))
        if match:
            drivers.append(match.group(1).split("-")[0])
    return sorted(drivers, key=lambda v: [int(p) for p in re.findall(r"\d+", v)])


def module_build(apt_show: str, common: str, driver: str) -> str:
    """The version of the precompiled module build that carries `driver`, or "" when this kernel has none."""
    for stanza in _stanzas(apt_show):
        match = re.search(re.escape(common) + r"\s*\(>=\s*([^)\s]+)\)", stanza.get("Depends", ""))
        if match and match.group(1).split("-")[0] == driver:
            return stanza.get("Version", "")
    return ""


def moved_locks(locks: str, pins: list[dict[str, str]]) -> list[str]:
    """Names whose dnf versionlock entry holds a version other than the pin (`dnf versionlock list` lines)."""
    moved = []
    for pin in pins:
        wanted = str(pin["version"]).rstrip("*").rstrip("-")
        entry = re.compile(re.escape(pin["name"]) + r"-(\d+:)?\d")
        entries = [line for line in locks.splitlines() if entry.match(line.strip())]
        if entries and not any(f"-{wanted}" in e or f":{wanted}" in e for e in entries):
            moved.append(pin["name"])
    return moved


def _root(text: str) -> ET.Element | None:
    start = text.find("<nvidia_smi_log")
    if start < 0:
        return None
    try:
        return ET.fromstring(text[start:])
    except ET.ParseError:
        return None


def _text(node: ET.Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def fabric_pending(text: str, only_fabric_gpus: bool = False) -> list[str]:
    """GPUs whose NVLink fabric is not configured (`nvidia-smi -q -x`): state not Completed or status not Success.
    With `only_fabric_gpus`, GPUs that have no fabric to configure (state N/A: PCIe GPUs) are left out."""
    root = _root(text)
    if root is None:
        return ["nvidia-smi gave no report: " + (text.strip().splitlines() or ["nothing"])[0]]
    pending = []
    for index, gpu in enumerate(root.findall("gpu")):
        state, status = _text(gpu, "fabric/state"), _text(gpu, "fabric/status")
        if only_fabric_gpus and state == "N/A":
            continue
        if state != "Completed" or status != "Success":
            pending.append(f"GPU {index} fabric {state or 'unknown'}/{status or 'unknown'}")
    return pending


def _int(value: str) -> int:
    match = re.match(r"\d+", value)
    return int(match.group()) if match else 0


def _gpu_health(index: int, gpu: ET.Element, expect: dict[str, Any]) -> tuple[list[str], dict[str, int]]:
    ecc = sum(_int(_text(gpu, f"ecc_errors/volatile/{k}")) for k in
              ("dram_uncorrectable", "sram_uncorrectable_parity", "sram_uncorrectable_secded", "sram_uncorrectable"))
    width = _int(_text(gpu, "pci/pci_gpu_link_info/link_widths/current_link_width"))
    gen = _int(_text(gpu, "pci/pci_gpu_link_info/pcie_gen/max_link_gen"))
    findings = [f"GPU {index}: {ecc} uncorrectable ECC errors"] if ecc else []
    if _text(gpu, "remapped_rows/remapped_row_pending") == "Yes":
        findings.append(f"GPU {index}: row remapping pending (reset the GPU, RMA if it recurs)")
    if _text(gpu, "remapped_rows/remapped_row_failure") == "Yes":
        findings.append(f"GPU {index}: row remapping failed (RMA)")
    if width and width < int(expect.get("pcie_width", 0)):
        findings.append(f"GPU {index}: PCIe x{width}, expected x{expect['pcie_width']}")
    if gen and gen < int(expect.get("pcie_gen", 0)):
        findings.append(f"GPU {index}: PCIe Gen{gen}, expected Gen{expect['pcie_gen']}")
    throttled = [r for r in _THROTTLES if _text(gpu, f"clocks_event_reasons/clocks_event_reason_{r}") == "Active"]
    if throttled:
        findings.append(f"GPU {index}: clocks throttled at idle ({', '.join(throttled)})")
    return findings, {"ecc": ecc, "width": width, "gen": gen, "throttled": len(throttled)}


def gpu_health(text: str, expect: dict[str, Any]) -> dict[str, Any]:
    """Findings of a sick node in `nvidia-smi -q -x` and the figures burn-in records (worst value over the GPUs)."""
    root = _root(text)
    if root is None:
        return {"findings": ["nvidia-smi -q -x gave no report"], "figures": {}}
    findings: list[str] = []
    rows = []
    for index, gpu in enumerate(root.findall("gpu")):
        found, figures = _gpu_health(index, gpu, expect)
        findings += found
        rows.append(figures)
    if int(expect.get("gpus", 0)) and len(rows) != int(expect["gpus"]):
        findings.append(f"{len(rows)} GPUs reported, {expect['gpus']} expected")
    summary = {
        "ecc_uncorrectable": sum(r["ecc"] for r in rows),
        "pcie_width_min": min((r["width"] for r in rows), default=0),
        "pcie_gen_min": min((r["gen"] for r in rows), default=0),
        "gpus_throttled_idle": sum(1 for r in rows if r["throttled"]),
    }
    return {"findings": findings, "figures": summary}


def nvlink_inactive(text: str) -> list[str]:
    """Inactive NVLinks in `nvidia-smi nvlink -s`: "GPU 2 link 5" for each `Link N: <inactive>` line."""
    gpu, inactive = "?", []
    for line in text.splitlines():
        header = re.match(r"GPU (\d+):", line)
        if header:
            gpu = header.group(1)
        link = re.match(r"\s*Link (\d+): (.*)$", line)
        if link and "inactive" in link.group(2).lower():
            inactive.append(f"GPU {gpu} link {link.group(1)}")
    return inactive


def nccl_busbw(text: str, min_bytes: int) -> dict[str, float]:
    """Bus bandwidth of an nccl-tests table: lowest and highest (out-of-place) over sizes >= min_bytes, and the average
    over all sizes (latency-bound small messages pull that one far below what the fabric sustains)."""
    rows = [(int(m.group(1)), float(m.group(5))) for m in map(_SIZE_ROW.match, text.splitlines()) if m]
    large = [busbw for size, busbw in rows if size >= int(min_bytes)]
    average = re.search(r"Avg bus bandwidth\s*:\s*([\d.]+)", text)
    return {
        "large_min": min(large) if large else -1.0,
        "large_max": max(large) if large else -1.0,
        "sizes": float(len(large)),
        "average": float(average.group(1)) if average else -1.0,
    }


def xid_events(text: str) -> list[str]:
    """Xid reports in kernel log text: "Xid 79 on 0000:18:00"."""
    return [f"Xid {m.group(2)} on {m.group(1)}" for m in _XID.finditer(text)]


def mlxconfig_diff(text: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """Settings whose Next Boot value (`next`, to set) or Current value (`current`, needs a reboot) is not the wanted
    one, from `mlxconfig -d DEV q` output (values as IB(1), True(1) or plain numbers)."""
    aliases = {"IB": "1", "ETH": "2", "TRUE": "1", "FALSE": "0"}
    want = {k: aliases.get(str(v).upper(), str(v)) for k, v in wanted.items()}
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] in want:
            rows[parts[0]] = [_value(p) for p in parts[-2:]]
    nxt = {k: v for k, v in want.items() if rows.get(k, ["", ""])[1] != v}
    current = [f"{k}={v}" for k, v in want.items() if rows.get(k, ["", ""])[0] != v]
    return {"next": nxt, "current": current}


def _value(shown: str) -> str:
    match = re.search(r"\((\d+)\)$", shown)
    return match.group(1) if match else shown


class FilterModule:
    """rackctl's filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "rackctl_module_build": module_build,
            "rackctl_module_drivers": module_drivers,
            "rackctl_moved_locks": moved_locks,
            "rackctl_fabric_pending": fabric_pending,
            "rackctl_gpu_health": gpu_health,
            "rackctl_nvlink_inactive": nvlink_inactive,
            "rackctl_nccl_busbw": nccl_busbw,
            "rackctl_xid_events": xid_events,
            "rackctl_mlxconfig_diff": mlxconfig_diff,
        }
