"""The probe's output: split into sections, then assembled into HostFacts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rackctl.drivers.hostfacts import bonding, dcgm, kernel, lldp, net, nvidia_smi, system
from rackctl.drivers.hostfacts.model import GpuReport, HostFacts, LldpNeighbor, Nic

SCRIPT = Path(__file__).resolve().parent.parent / "host_probe.sh"
NOT_FOUND = 127


@dataclass(frozen=True)
class Section:
    text: str
    status: int


def split_sections(output: str) -> dict[str, Section]:
    """'@@rackctl@@ NAME' ... '@@rackctl-rc@@ STATUS' blocks; a block cut short gets status -1."""
    sections = {}
    pattern = r"^@@rackctl@@ (.+?)\n(.*?)(?:\n@@rackctl-rc@@ (-?\d+)\s*$|\Z)"
    for match in re.finditer(pattern, output, re.M | re.S):
        status = int(match.group(3)) if match.group(3) is not None else -1
        sections[match.group(1).strip()] = Section(match.group(2).strip("\n"), status)
    return sections


def _missing(sections: dict[str, Section]) -> tuple[str, ...]:
    tools = {"nvidia-smi-xml": "nvidia-smi", "units": "systemctl", "dcgm-health": "dcgmi", "lldp": "lldpctl"}
    tools |= {name: "ethtool" for name in sections if name.startswith("ethtool ")}
    tools["serving-health"] = "curl"
    return tuple(sorted({tool for name, tool in tools.items() if _status(sections, name) == NOT_FOUND}))


def _status(sections: dict[str, Section], name: str) -> int | None:
    section = sections.get(name)
    return section.status if section else None


def _text(sections: dict[str, Section], name: str) -> str:
    section = sections.get(name)
    return section.text if section else ""


def _nics(sections: dict[str, Section]) -> dict[str, Nic]:
    nics = net.parse_sysfs(_text(sections, "sysfs-net"))
    for name, section in sections.items():
        if name.startswith("ethtool ") and section.status == 0:
            iface = name.removeprefix("ethtool ")
            nics[iface] = net.merge_ethtool(nics.get(iface), iface, section.text)
    return nics


def _gpus(sections: dict[str, Section]) -> tuple[GpuReport | None, str]:
    report = nvidia_smi.parse_xml(_text(sections, "nvidia-smi-xml"))
    if report is None:
        report = nvidia_smi.parse_csv(_text(sections, "nvidia-smi-csv"))
    if report is not None:
        return report, ""
    return None, nvidia_smi.failure(_text(sections, "nvidia-smi-xml"))


def _serving(sections: dict[str, Section]) -> int | None:
    if "serving-health" not in sections:
        return None
    code = _text(sections, "serving-health").strip()[-3:]
    return int(code) if code.isdigit() else 0


def _lldp(sections: dict[str, Section]) -> tuple[tuple[LldpNeighbor, ...] | None, str]:
    section = sections.get("lldp")
    if section is None:
        return None, "the probe did not reach lldpctl"
    if section.status == NOT_FOUND:
        return None, "lldpctl is not installed"
    neighbors = lldp.parse(section.text) if section.status == 0 else None
    return neighbors, "" if neighbors is not None else (section.text.strip().splitlines() or ["no output"])[-1]


def assemble(sections: dict[str, Section]) -> HostFacts:
    """HostFacts from the probe's sections (whatever is missing stays empty)."""
    gpus, smi_error = _gpus(sections)
    neighbors, lldp_error = _lldp(sections)
    health = dcgm.parse(_text(sections, "dcgm-health"))
    return HostFacts(
        hostname=_text(sections, "hostname").strip(),
        kernel=_text(sections, "kernel").strip(),
        gpus=gpus,
        smi_error=smi_error,
        driver_loaded=kernel.loaded_driver(_text(sections, "driver-loaded")),
        driver_installed=kernel.installed_driver(_text(sections, "driver-installed")),
        packages=system.parse_packages(_text(sections, "packages")),
        units=system.parse_units(_text(sections, "units")),
        dcgm=health,
        dcgm_error="" if health else nvidia_smi.failure(_text(sections, "dcgm-health")),
        xids=kernel.parse_xids(_text(sections, "xid")),
        nics=_nics(sections),
        bonds=bonding.parse_section(_text(sections, "bonding")),
        lldp=neighbors,
        lldp_error=lldp_error,
        serving_http=_serving(sections),
        missing_tools=_missing(sections),
    )


def parse_output(output: str) -> HostFacts:
    """HostFacts from the probe's whole output."""
    return assemble(split_sections(output))
