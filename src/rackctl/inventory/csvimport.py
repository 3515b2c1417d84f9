"""Read a technician's spreadsheet (CSV) of serials, asset tags, MACs and BMC addresses into devices.

Header: `name` plus any of `serial`, `asset_tag`, `bmc_address` (or `mgmt_address`), `bmc_port`,
`bmc_username`, and `mac:<interface>` (or `<interface>_mac`) per interface. Every row is checked
before anything is written; every bad row is reported by its row number.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import Location, ValidationError
from rackctl.inventory.models import Device, Interface, IpAddress, ManagementEndpoint
from rackctl.inventory.names import check_token, shown
from rackctl.types import MgmtProtocol

_MAC = re.compile(r"^([0-9a-f]{2})([:-]?)([0-9a-f]{2})(\2[0-9a-f]{2}){4}$", re.IGNORECASE)
_ALIASES = {
    "mgmt_address": "bmc_address",
    "bmc_ip": "bmc_address",
    "asset": "asset_tag",
    "serial_number": "serial",
}
_SCALARS = {"name", "serial", "asset_tag", "bmc_address", "bmc_port", "bmc_username"}


class CsvErrors(ValidationError):
    """Several bad rows; each is a ValidationError naming its row."""

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more bad row(s))" if len(errors) > 1 else ""
        super().__init__(errors[0].reason + more, errors[0].where)


def normalise_mac(text: str) -> str | None:
    """A MAC as lower-case, colon-separated; None if it is not a MAC."""
    cleaned = text.strip()
    if len(cleaned) == 12 and all(c in "0123456789abcdefABCDEF" for c in cleaned):
        cleaned = ":".join(cleaned[i : i + 2] for i in range(0, 12, 2))
    if not _MAC.match(cleaned):
        return None
    return cleaned.lower().replace("-", ":")


@dataclass
class CsvRow:
    row: int
    name: str
    values: dict[str, str] = field(default_factory=dict)
    macs: dict[str, str] = field(default_factory=dict)


def _column(header: str) -> tuple[str, str | None]:
    text = header.strip()
    lowered = text.lower()
    if lowered.startswith("mac:"):
        return "mac", text[4:].strip()
    if lowered.endswith("_mac") and lowered not in _SCALARS:
        return "mac", text[:-4]
    return _ALIASES.get(lowered, lowered), None


def parse_csv(text: str, source: str) -> list[CsvRow]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationError("empty file: a header row with 'name' is needed", Location(source, 1))
    columns = [_column(h) for h in header]
    if ("name", None) not in columns:
        raise ValidationError("no 'name' column", Location(source, 1))
    unknown = [h for h, (kind, _) in zip(header, columns, strict=True) if kind not in _SCALARS | {"mac"}]
    if unknown:
        raise ValidationError(
            f"unknown column(s): {', '.join(unknown)}",
            Location(source, 1),
            hint="name, serial, asset_tag, bmc_address, bmc_port, bmc_username, mac:<interface>",
        )
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ValidationError(f"{len(cells)} cells, header has {len(header)}", Location(source, row=number))
        row = CsvRow(number, "")
        for (kind, iface), cell in zip(columns, cells, strict=True):
            if not cell.strip():
                continue
            if kind == "mac":
                row.macs[iface or ""] = cell.strip()
            elif kind == "name":
                row.name = cell.strip()
            else:
                row.values[kind] = cell.strip()
        rows.append(row)
    return rows


def _check_row(session: Session, row: CsvRow, source: str, devices: dict[str, Device]) -> list[ValidationError]:
    def bad(message: str, field_name: str) -> ValidationError:
        return ValidationError(message, Location(source, row=row.row, field=field_name))

    problems = []
    device = devices.get(row.name)
    if not row.name:
        return [bad("no device name", "name")]
    if device is None:
        return [bad(f"no device named {shown(row.name)} in the inventory", "name")]
    problems += _refused(row, source)
    if "bmc_address" in row.values:
        try:
            ipaddress.ip_address(row.values["bmc_address"])
        except ValueError:
            problems.append(bad(f"'{row.values['bmc_address']}' is not an IP address", "bmc_address"))
    if "bmc_port" in row.values and not _is_port(row.values["bmc_port"]):
        problems.append(bad(f"'{row.values['bmc_port']}' is not a port number", "bmc_port"))
    for iface, mac in row.macs.items():
        if device.interface(iface) is None:
            problems.append(bad(f"{row.name} has no interface '{iface}'", f"mac:{iface}"))
        elif normalise_mac(mac) is None:
            problems.append(bad(f"'{mac}' is not a MAC address", f"mac:{iface}"))
    return problems


def _refused(row: CsvRow, source: str) -> list[ValidationError]:
    """Values the name rule refuses (serials, asset tags, user names hold no spaces or shell syntax)."""
    problems = []
    for key in ("serial", "asset_tag", "bmc_username"):
        if key in row.values:
            try:
                check_token(row.values[key], key, Location(source, row=row.row, field=key))
            except ValidationError as exc:
                problems.append(exc)
    return problems


def _is_port(text: str) -> bool:
    return text.isdigit() and 1 <= int(text) <= 65535


def _check_unique(rows: list[CsvRow], source: str) -> list[ValidationError]:
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for row in rows:
        keys = [("name", row.name)] + [
            (k, row.values[k].upper()) for k in ("serial", "asset_tag", "bmc_address") if k in row.values
        ]
        keys += [("mac", normalise_mac(m) or m) for m in row.macs.values()]
        for key in keys:
            if key in seen:
                problems.append(
                    ValidationError(
                        f"{key[0]} {key[1]} also on row {seen[key]}",
                        Location(source, row=row.row, field=key[0]),
                    )
                )
            seen.setdefault(key, row.row)
    return problems


def _taken(session: Session) -> dict[tuple[str, str], str]:
    """Serials, asset tags, MACs and management addresses the inventory already holds, with their owner."""
    taken: dict[tuple[str, str], str] = {}
    for d in session.scalars(select(Device)):
        if d.serial:
            taken[("serial", d.serial.upper())] = d.name
        if d.asset_tag:
            taken[("asset_tag", d.asset_tag.upper())] = d.name
    for mgmt in session.scalars(select(ManagementEndpoint)):
        taken[("bmc_address", mgmt.address.upper())] = mgmt.device.name
    # A BMC must not take an address a host interface already has either.
    for address in session.scalars(select(IpAddress)):
        taken[("bmc_address", address.address.upper())] = address.interface.device.name
    for iface in session.scalars(select(Interface).where(Interface.mac.is_not(None))):
        taken[("mac", iface.mac or "")] = iface.device.name
    return taken


def _check_inventory(session: Session, rows: list[CsvRow], source: str) -> list[ValidationError]:
    taken = _taken(session)
    problems = []
    for row in rows:
        keys = [(k, row.values[k].upper()) for k in ("serial", "asset_tag", "bmc_address") if k in row.values]
        keys += [("mac", normalise_mac(m) or m) for m in row.macs.values()]
        for key in keys:
            owner = taken.get(key)
            if owner is not None and owner != row.name:
                problems.append(
                    ValidationError(
                        f"{key[0]} {key[1]} already belongs to {owner}",
                        Location(source, row=row.row, field=key[0]),
                    )
                )
    return problems


def import_csv(session: Session, path: Path) -> int:
    """Apply the spreadsheet to the inventory; the caller's transaction keeps it all-or-nothing."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", Location(str(path))) from None
    rows = parse_csv(text, str(path))
    devices = {d.name: d for d in session.scalars(select(Device).where(Device.name.in_([r.name for r in rows])))}
    problems = [p for r in rows for p in _check_row(session, r, str(path), devices)]
    problems += _check_unique(rows, str(path)) + _check_inventory(session, rows, str(path))
    if problems:
        raise CsvErrors(sorted(problems, key=lambda e: e.where.row or 0))
    for row in rows:
        _apply(devices[row.name], row)
    session.flush()
    return len(rows)


def _apply(device: Device, row: CsvRow) -> None:
    if "serial" in row.values:
        device.serial = row.values["serial"]
    if "asset_tag" in row.values:
        device.asset_tag = row.values["asset_tag"]
    if any(k in row.values for k in ("bmc_address", "bmc_port", "bmc_username")):
        mgmt = device.mgmt or ManagementEndpoint(address="", protocol=MgmtProtocol.AUTO)
        device.mgmt = mgmt
        mgmt.address = row.values.get("bmc_address", mgmt.address)
        mgmt.port = int(row.values["bmc_port"]) if "bmc_port" in row.values else mgmt.port
        mgmt.username = row.values.get("bmc_username", mgmt.username)
    for iface_name, mac in row.macs.items():
        interface: Interface | None = device.interface(iface_name)
        assert interface is not None
        interface.mac = normalise_mac(mac)
