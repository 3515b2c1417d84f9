"""A profile's firmware baseline and its comparison with what a BMC reports: which components are behind,
in which order to update them, and what each update needs (an image, a host reboot, a BMC reset)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rackctl.drivers.bmcconfig import FirmwareComponent
from rackctl.errors import ValidationError
from rackctl.versions import same_version

# Update order: host firmware first, the BMC last. NOTE(Dell iDRAC 9): "if you want to rollback iDRAC, make sure
# to pass in this device URI last due to iDRAC will reboot once the update is complete"
# (DeviceFirmwareRollbackMultipleDevicesREDFISH.py); a BMC that resets mid-run also drops the other tasks.
ORDER = ("bios", "gpu", "nic", "psu", "cpld", "bmc")

# What activates a new image. NOTE(Dell iDRAC 9): BIOS and device packages finish "UserIntervention ... reboot"
# and apply at the next host reset; a CPLD/FPGA update ends with a virtual A/C cycle and the BMC resets after
# its own update (DeviceFirmwareMultipartUploadREDFISH.py). NOTE(NVIDIA HGX): GPU baseboard images wait in
# Update.1.0.AwaitToActivate for a DC or AC power cycle.
HOST_REBOOT = frozenset({"bios", "gpu", "nic", "cpld"})
BMC_RESETS = frozenset({"bmc"})


@dataclass(frozen=True)
class Wanted:
    """One component of the baseline: the exact version and where its image is."""

    kind: str
    version: str
    image: str = ""
    sha256: str = ""
    match: str = ""  # a regular expression on the BMC's component id or name; empty: rackctl's classification
    via: str = ""  # "simple" (the BMC fetches), "push" (rackctl sends); empty: push for files when offered


@dataclass(frozen=True)
class Step:
    """What an update of one component on one node changes."""

    kind: str
    wanted: Wanted
    components: tuple[FirmwareComponent, ...]  # the BMC's members of this kind not at the version yet
    reboot: bool = False
    bmc_reset: bool = False

    @property
    def current(self) -> str:
        return ", ".join(sorted({c.version or "?" for c in self.components}))


@dataclass(frozen=True)
class NodePlan:
    """A node's steps (in update order), the components already at the baseline, and what cannot be read."""

    node: str
    steps: tuple[Step, ...] = ()
    current: tuple[str, ...] = ()  # kinds already at the baseline
    missing: tuple[str, ...] = ()  # kinds the baseline names but the BMC does not report
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind at the baseline -> (now, wanted)

    @property
    def reboot(self) -> bool:
        return any(s.reboot for s in self.steps)


def parse(firmware: Mapping[str, Any] | None, where: str = "profile") -> dict[str, Wanted]:
    """The baseline from a profile's `firmware` mapping (already schema-checked when it was imported)."""
    found = {}
    for kind, spec in (firmware or {}).items():
        if not isinstance(spec, Mapping) or not spec.get("version"):
            raise ValidationError(f"{where}: firmware.{kind} needs a version")
        match = str(spec.get("match") or "")
        if match:
            try:
                re.compile(match)
            except re.error as exc:
                raise ValidationError(f"{where}: firmware.{kind}.match is not a regular expression ({exc})") from None
        found[kind] = Wanted(
            kind, str(spec["version"]), str(spec.get("image") or ""), str(spec.get("sha256") or "").lower(), match,
            str(spec.get("via") or ""),
        )  # fmt: skip
    return dict(sorted(found.items(), key=lambda item: _rank(item[0])))


def _rank(kind: str) -> int:
    return ORDER.index(kind) if kind in ORDER else len(ORDER)


def members(wanted: Wanted, components: Sequence[FirmwareComponent]) -> list[FirmwareComponent]:
    """The BMC's components a baseline entry covers: by its `match`, else by kind."""
    if wanted.match:
        pattern = re.compile(wanted.match)
        return [c for c in components if pattern.search(c.id) or pattern.search(c.name)]
    return [c for c in components if c.kind == wanted.kind]


def plan_node(node: str, baseline: Mapping[str, Wanted], components: Sequence[FirmwareComponent]) -> NodePlan:
    """Compare a node's firmware with the baseline; `components` is everything its BMC reports."""
    steps, current, missing, versions = [], [], [], {}
    for kind, wanted in baseline.items():
        covered = members(wanted, components)
        if not covered:
            missing.append(kind)
            continue
        behind = tuple(c for c in covered if not c.version or not same_version(wanted.version, c.version))
        if not behind:
            current.append(kind)
            versions[kind] = (", ".join(sorted({c.version for c in covered})), wanted.version)
            continue
        steps.append(Step(kind, wanted, behind, reboot=kind in HOST_REBOOT, bmc_reset=kind in BMC_RESETS))
    return NodePlan(node, tuple(steps), tuple(current), tuple(missing), versions)


def selected(baseline: Mapping[str, Wanted], components: Sequence[str]) -> dict[str, Wanted]:
    """The baseline limited to `--components` (all when none are named); unknown names are refused."""
    if not components:
        return dict(baseline)
    unknown = sorted(set(components) - set(baseline))
    if unknown:
        names = ", ".join(baseline) or "none"
        raise ValidationError(f"--components: {', '.join(unknown)} not in the profile's baseline (it has {names})")
    return {kind: wanted for kind, wanted in baseline.items() if kind in components}
