"""BIOS settings by intent, mapped to each vendor's attribute names: data with evidence.

A profile says what a GPU server needs (SR-IOV on, Above-4G decoding on, IOMMU on, UEFI boot, the
performance power profile, ACS as the fabric needs); each vendor names these differently. Every name
and value below was read in a vendor's own documentation, a recording of a real BMC, or another
project's mapping - never guessed. An intent a vendor has no known attribute for is refused (name the
attribute under `bios.attributes` instead); one a vendor's firmware has no setting for at all because
it is always so is listed in `ALWAYS` and needs nothing.

Sources:
- [dell-r650] a PowerEdge R650's Bios resource (iDRAC 9 5.10.00.00, BIOS 1.2.4) recorded in akaliwod/iserver,
  doc/redfish-tests-dell-vserver/UriSystems.md, commit bf55df8.
- [dell-mx740c] a PowerEdge MX740c's Bios (BIOS 2.14.2) in Dell's dellemc-openmanage-ansible-modules,
  roles/idrac_gather_facts/README.md, commit efb902b.
- [metal3-idrac] Metal3 baremetal-operator pkg/bmc/idrac.go, commit 8b8209b3 (SriovGlobalEnable,
  ProcVirtualization, LogicalProc); [metal3-ilo5] pkg/hardwareutils/bmc/ilo5.go before commit 5b5451c7.
- [ilo5-309] HPE iLO 5 v3.09 Bios resource definitions; [ilo6-170] HPE iLO 6 v1.70 (HPEDevCom/redfishdocs,
  commit 676416d, docs/redfishServices/ilos/...).
- [dmtf] DMTF public-rackmount1 mockup Bios; [sushy-p89] the BiosAttributeRegistryP89 registries of
  sushy-tools 2.2.0 (templates/bios_registry.json) and OpenStack sushy (tests/unit/json_samples).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SWITCHES = ("sriov", "above_4g", "iommu", "acs", "secure_boot")
CHOICES = {"boot_mode": ("uefi", "legacy"), "power_profile": ("performance", "efficiency")}
INTENTS = (*SWITCHES, *CHOICES)
_ON_OFF = {"on": "Enabled", "off": "Disabled"}


@dataclass(frozen=True)
class Choice:
    """One attribute that carries an intent, its value per intent value, and attributes it needs set too."""

    attribute: str
    values: Mapping[str, Any]
    also: Mapping[str, Any] = field(default_factory=dict)
    seen_in: str = ""


VENDORS: dict[str, dict[str, tuple[Choice, ...]]] = {
    "dell": {
        "sriov": (Choice("SriovGlobalEnable", _ON_OFF, seen_in="dell-r650, dell-mx740c, metal3-idrac"),),
        "above_4g": (Choice("MmioAbove4Gb", _ON_OFF, seen_in="dell-r650, dell-mx740c"),),
        # Dell has one "Virtualization Technology" switch and no separate VT-d/IOMMU attribute in either
        # recording; Metal3 sets it for virtualization.
        "iommu": (Choice("ProcVirtualization", _ON_OFF, seen_in="dell-r650, dell-mx740c, metal3-idrac"),),
        "boot_mode": (Choice("BootMode", {"uefi": "Uefi", "legacy": "Bios"}, seen_in="dell-r650, dell-mx740c"),),
        "power_profile": (
            Choice(
                "SysProfile",
                {"performance": "PerfOptimized", "efficiency": "PerfPerWattOptimizedDapc"},
                seen_in="dell-r650 (PerfOptimized), dell-mx740c (PerfPerWattOptimizedDapc)",
            ),
        ),
    },
    "hpe": {
        "sriov": (Choice("Sriov", _ON_OFF, seen_in="ilo5-309, ilo6-170, metal3-ilo5"),),
        "iommu": (
            Choice("IntelProcVtd", _ON_OFF, seen_in="ilo5-309 (Intel VT-d)"),
            Choice("ProcAmdIoVt", _ON_OFF, seen_in="ilo6-170 (AMD I/O Virtualization, IOMMU)"),
        ),
        "boot_mode": (Choice("BootMode", {"uefi": "Uefi", "legacy": "LegacyBios"}, seen_in="ilo5-309"),),
        # "You can only configure this option if the Workload Profile is set to Custom" (ilo5-309, PowerRegulator).
        "power_profile": (
            Choice(
                "PowerRegulator",
                {"performance": "StaticHighPerf", "efficiency": "DynamicPowerSavings"},
                also={"WorkloadProfile": "Custom"},
                seen_in="ilo5-309",
            ),
        ),
    },
    "dmtf-example": {
        "boot_mode": (Choice("BootMode", {"uefi": "Uefi", "legacy": "Bios"}, seen_in="dmtf, sushy-p89"),),
        "power_profile": (Choice("PowerProfile", {"performance": "MaxPerf"}, seen_in="dmtf"),),
        "iommu": (Choice("ProcVirtualization", _ON_OFF, seen_in="sushy-p89 (OpenStack sushy's registry)"),),
    },
}

# Intents a vendor's firmware has no setting for because the platform always behaves so.
ALWAYS: dict[str, dict[str, str]] = {
    "hpe": {
        "above_4g": "iLO 5 v3.09 and iLO 6 v1.70 define no Above-4G/MMIO setting: ProLiant BIOSes always map PCIe "
        "BARs above 4 GB",
    },
}


def vendor_of(manufacturer: str, registry: str) -> str:
    """Which table applies, from the system's Manufacturer and the Bios's AttributeRegistry name."""
    text = manufacturer.lower()
    if "dell" in text:
        return "dell"
    if "hpe" in text or "hewlett" in text:
        return "hpe"
    if registry.startswith("BiosAttributeRegistryP89"):
        return "dmtf-example"  # DMTF's mockup (Contoso) and sushy-tools' emulator serve this example registry
    return ""


def normalised(intent: str, value: Any) -> str:
    """A profile's value as the tables key it: switches on/off, choices as written."""
    if intent in SWITCHES:
        if isinstance(value, bool):
            return "on" if value else "off"
        return "on" if str(value).lower() in ("on", "enabled", "true") else "off"
    return str(value).lower()


def choose(vendor: str, intent: str, available: set[str]) -> Choice | None:
    """The vendor's attribute for `intent`: the first of its choices the BMC has (the first one when unknown)."""
    choices = VENDORS.get(vendor, {}).get(intent, ())
    present = [c for c in choices if c.attribute in available]
    found = present or list(choices)
    return found[0] if found else None
