"""Network ports: the probe's sysfs lines (/sys/class/net/*) and `ethtool IFACE`."""

from __future__ import annotations

import re
from dataclasses import replace

from rackctl.drivers.hostfacts.model import Nic


def _number(value: str) -> int | None:
    # sysfs speed reads -1 (or fails: "-") on a port without link.
    return int(value) if re.fullmatch(r"\d+", value) else None


def parse_sysfs(text: str) -> dict[str, Nic]:
    """Lines of 'NAME mtu=.. oper=.. speed=.. vfs=.. master=..' as the probe prints them."""
    nics = {}
    for line in text.splitlines():
        name, *pairs = line.split() or [""]
        values = dict(pair.partition("=")[::2] for pair in pairs)
        if not name or "mtu" not in values:
            continue
        nics[name] = Nic(
            name=name,
            mtu=_number(values.get("mtu", "")),
            operstate=values.get("oper", "-").replace("-", ""),
            speed_mbps=_number(values.get("speed", "")),
            sriov_vfs=_number(values.get("vfs", "")),
            master=values.get("master", ""),
        )
    return nics


def parse_ethtool(text: str) -> tuple[int | None, bool | None]:
    """(speed in Mb/s, link detected) from `ethtool IFACE`; None where ethtool did not say."""
    speed = re.search(r"^\s*Speed:\s*(\d+)\s*([MG])b/s", text, re.M)
    link = re.search(r"^\s*Link detected:\s*(yes|no)", text, re.M)
    mbps = int(speed.group(1)) * (1000 if speed.group(2) == "G" else 1) if speed else None
    return mbps, (link.group(1) == "yes") if link else None


def merge_ethtool(nic: Nic | None, name: str, text: str) -> Nic:
    """sysfs facts with ethtool's speed and link (ethtool wins: sysfs speed is blank on some drivers)."""
    speed, link = parse_ethtool(text)
    base = nic or Nic(name=name)
    return replace(base, speed_mbps=speed if speed is not None else base.speed_mbps, link_detected=link)
