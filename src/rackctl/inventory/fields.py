"""Checks of single values that every write path shares: `device set`, CSV import, and what is read back.

One rule per field, so a value `import csv` refuses is refused by `device set` too, and a value that
reached the database some other way is refused again when a driver would use it.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.drivers.tlsnotation import SCHEMES, fingerprint_hex, fingerprint_shown
from rackctl.errors import Location, ValidationError
from rackctl.inventory.models import Device, Interface, IpAddress, ManagementEndpoint
from rackctl.inventory.names import shown

PORT_RANGE = (1, 65535)
PDU_UNITS = (1, 64)  # a daisy chain's positions: APC 4, Raritan 8, Eaton 8, Sentry4 link units A-Z
# Values no two devices may share, keyed as `import csv` names its columns.
UNIQUE_KEYS = ("serial", "asset_tag", "bmc_address", "mac")


def is_port(value: int | str) -> bool:
    text = str(value).strip()
    return text.isdigit() and PORT_RANGE[0] <= int(text) <= PORT_RANGE[1]


def port(value: int | str, where: Location) -> int:
    """A TCP/UDP port number, 1-65535."""
    if not is_port(value):
        raise ValidationError(f"{shown(str(value))} is not a port number (1-65535)", where)
    return int(str(value).strip())


def pdu_unit(value: int | str, where: Location) -> int:
    """A PDU's position in a daisy chain, counted from 1 (the unit the network reaches)."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not PDU_UNITS[0] <= int(text) <= PDU_UNITS[1]:
        low, high = PDU_UNITS
        raise ValidationError(f"{shown(text)} is not a unit of a PDU daisy chain ({low}-{high})", where)
    return int(text)


def ip_address(value: str, where: Location) -> str:
    """An IPv4 or IPv6 address (no host names: a BMC is reached by address), as written."""
    text = value.strip()
    if not text:
        raise ValidationError("an empty address", where)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ValidationError(f"{shown(value)} is not an IP address", where) from None
    return text


def tls_fingerprint(value: str, where: Location) -> str:
    """A BMC certificate pin: its SHA-256 in any usual notation, kept as openssl prints it (`AB:CD:...`)."""
    hex_digits = fingerprint_hex(value)
    if hex_digits is None:
        raise ValidationError(
            f"{shown(value)} is not a SHA-256 certificate fingerprint (64 hex digits, colons and SHA256: allowed)",
            where,
            hint="openssl s_client -connect BMC:443 </dev/null | openssl x509 -noout -fingerprint -sha256",
        )
    return fingerprint_shown(hex_digits)


def redfish_scheme(value: str, where: Location) -> str:
    """How Redfish is reached: https, or http only where the inventory says so (credentials in clear text)."""
    chosen = value.strip().lower()
    if chosen not in SCHEMES:
        raise ValidationError(f"{shown(value)} is neither https nor http", where)
    return chosen


def owners(session: Session) -> dict[tuple[str, str], str]:
    """Serials, asset tags, MACs and management addresses the inventory holds, each with its device."""
    taken: dict[tuple[str, str], str] = {}
    for name, serial, tag in session.execute(select(Device.name, Device.serial, Device.asset_tag)):
        if serial:
            taken[key("serial", serial)] = name
        if tag:
            taken[key("asset_tag", tag)] = name
    bmcs = select(ManagementEndpoint.address, Device.name).join(Device, ManagementEndpoint.device_id == Device.id)
    for address, name in session.execute(bmcs):
        taken[key("bmc_address", address)] = name
    # A BMC must not take an address a host interface already has either.
    host_addresses = (
        select(IpAddress.address, Device.name)
        .join(Interface, IpAddress.interface_id == Interface.id)
        .join(Device, Interface.device_id == Device.id)
    )
    for address, name in session.execute(host_addresses):
        taken[key("bmc_address", address)] = name
    macs = select(Interface.mac, Device.name).join(Device, Interface.device_id == Device.id)
    macs = macs.where(Interface.mac.is_not(None))
    for mac, name in session.execute(macs):
        taken[key("mac", mac)] = name
    return taken


def key(kind: str, value: str) -> tuple[str, str]:
    """How uniqueness compares values: serials and tags ignore case, like the people who type them."""
    return kind, value.strip().upper() if kind != "mac" else value.strip().lower()


def free(taken: dict[tuple[str, str], str], kind: str, value: str, device: str, where: Location) -> None:
    """Refuse a value another device already holds."""
    kind, held = key(kind, value)
    owner = taken.get((kind, held))
    if owner is not None and owner != device:
        raise ValidationError(f"{kind} {held} already belongs to {owner}", where)
