"""Kernel facts: NVIDIA XID lines of the kernel log and the loaded driver's version."""

from __future__ import annotations

import re

from rackctl.drivers.hostfacts.model import XidEvent

# "NVRM: Xid (PCI:0000:18:00): 79, pid=..., GPU has fallen off the bus." (dmesg or journal prefix before)
_XID = re.compile(r"NVRM: Xid \((?:PCI:)?([0-9a-fA-F:.]+)\): (\d+)")
# "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.133.20  Fri Mar 14 ..." (also "Open Kernel Module")
_LOADED = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)")


def parse_xids(text: str) -> tuple[XidEvent, ...]:
    events = []
    for line in text.splitlines():
        match = _XID.search(line)
        if match:
            events.append(XidEvent(bus=match.group(1).lower(), code=int(match.group(2)), line=line.strip()))
    return tuple(events)


def loaded_driver(text: str) -> str:
    """The version in /proc/driver/nvidia/version, or '' when no NVIDIA module is loaded."""
    match = _LOADED.search(text)
    return match.group(1) if match else ""


def installed_driver(text: str) -> str:
    """`modinfo -F version nvidia`: the module on disk for the running kernel."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if re.fullmatch(r"\d+\.\d+(\.\d+)?", line) else ""
