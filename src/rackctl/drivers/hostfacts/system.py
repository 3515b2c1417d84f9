"""systemd unit states (`systemctl show --property=Id,LoadState,ActiveState,SubState UNIT...`) and
installed package versions (the probe's dpkg-query or rpm lines: 'STATUS NAME VERSION')."""

from __future__ import annotations

import re

from rackctl.drivers.hostfacts.model import UnitState


def parse_units(text: str) -> dict[str, UnitState]:
    units = {}
    for block in re.split(r"\n\s*\n", text.strip()):
        values = dict(line.partition("=")[::2] for line in block.splitlines() if "=" in line)
        if values.get("Id"):
            name = values["Id"]
            units[name] = UnitState(
                name, values.get("LoadState", ""), values.get("ActiveState", ""), values.get("SubState", "")
            )
    return units


def parse_packages(text: str) -> dict[str, str]:
    """Installed packages only ('ii'), versions without epoch and packaging revision."""
    packages = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ii":
            packages[parts[1]] = upstream_version(parts[2])
    return packages


def upstream_version(version: str) -> str:
    """'1:4.2.3-1' -> '4.2.3'; '570.133.20-0ubuntu1' -> '570.133.20'."""
    without_epoch = version.split(":", 1)[-1]
    return without_epoch.rsplit("-", 1)[0] if "-" in without_epoch else without_epoch
