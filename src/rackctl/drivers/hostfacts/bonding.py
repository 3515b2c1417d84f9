"""/proc/net/bonding/bondN, as the Linux bonding driver writes it (kernels 2.6 to 6.x)."""

from __future__ import annotations

import re

from rackctl.drivers.hostfacts.model import Bond, BondMember

# "Bonding Mode:" lines and the short names (as in /sys/class/net/bondN/bonding/mode and netplan).
MODES = {
    "load balancing (round-robin)": "balance-rr",
    "fault-tolerance (active-backup)": "active-backup",
    "load balancing (xor)": "balance-xor",
    "fault-tolerance (broadcast)": "broadcast",
    "ieee 802.3ad dynamic link aggregation": "802.3ad",
    "transmit load balancing": "balance-tlb",
    "adaptive load balancing": "balance-alb",
}


def _pairs(block: str) -> list[tuple[str, str]]:
    pairs = []
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            pairs.append((key.strip().lower(), value.strip()))
    return pairs


def _int(value: str) -> int | None:
    match = re.match(r"\d+", value)
    return int(match.group()) if match else None


def _member(block: str) -> BondMember:
    values: dict[str, str] = {}
    lacp_side = ""
    for key, value in _pairs(block):
        # The "details actor/partner lacp pdu:" sub-blocks repeat keys; keep which side they describe.
        if key.startswith("details "):
            lacp_side = "actor" if "actor" in key else "partner"
            continue
        values[f"{lacp_side} {key}".strip()] = value
    return BondMember(
        name=values.get("slave interface", ""),
        mii_up=values.get("mii status", "") == "up",
        speed_mbps=_int(values.get("speed", "")),
        aggregator_id=values.get("aggregator id", ""),
        actor_state=_int(values.get("actor port state", "")),
        partner_state=_int(values.get("partner port state", "")),
        partner_mac=values.get("partner system mac address", ""),
    )


def parse_bond(name: str, text: str) -> Bond:
    """One bonding file; members in the order the driver lists them."""
    head, *slaves = re.split(r"\n(?=Slave Interface:)", text.strip())
    values = dict(_pairs(head))
    return Bond(
        name=name,
        mode=MODES.get(values.get("bonding mode", "").lower(), values.get("bonding mode", "")),
        mii_up=values.get("mii status", "") == "up",
        hash_policy=values.get("transmit hash policy", "").split(" (")[0],
        lacp_rate=values.get("lacp rate", ""),
        aggregator_id=values.get("aggregator id", ""),
        partner_mac=values.get("partner mac address", ""),
        members=tuple(_member(block) for block in slaves),
    )


def parse_section(text: str) -> dict[str, Bond]:
    """The probe's bonding section: each file introduced by '==> NAME <=='."""
    bonds = {}
    for match in re.finditer(r"^==> (\S+) <==\n(.*?)(?=^==> |\Z)", text, re.M | re.S):
        bonds[match.group(1)] = parse_bond(match.group(1), match.group(2))
    return bonds
