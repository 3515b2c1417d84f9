"""Check a parsed spreadsheet against the inventory, say what it would change, and apply it as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import Location, ValidationError
from rackctl.inventory import fields
from rackctl.inventory.csvimport import CsvErrors, CsvRow, normalise_mac, parse_csv, read_text
from rackctl.inventory.models import Device, ManagementEndpoint
from rackctl.inventory.names import check_token, shown
from rackctl.types import MgmtProtocol

# Columns that are the device's own, and those of its management endpoint (column -> attribute).
_DEVICE_FIELDS = ("serial", "asset_tag")
_MGMT_FIELDS = {"bmc_address": "address", "bmc_port": "port", "bmc_username": "username"}
_UNIQUE = (*_DEVICE_FIELDS, "bmc_address")


@dataclass
class RowPlan:
    """What one row changes: column -> (before, after); nothing when the device already matches."""

    row: int
    name: str
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "name": self.name,
            "changes": {k: {"before": b, "after": a} for k, (b, a) in self.changes.items()},
        }


def import_csv(session: Session, path: Path, delimiter: str = ",", dry_run: bool = False) -> list[RowPlan]:
    """Check every row, then (unless `dry_run`) apply them all; the caller's transaction keeps it atomic."""
    source = str(path)
    rows = parse_csv(read_text(path), source, delimiter)
    names = [r.name for r in rows]
    devices = {d.name: d for d in session.scalars(select(Device).where(Device.name.in_(names)))}
    problems = [p for r in rows for p in _check_row(r, source, devices)]
    problems += _check_unique(rows, source)
    problems += _check_inventory(session, [r for r in rows if r.name in devices], source, devices)
    if problems:
        raise CsvErrors(sorted(problems, key=lambda e: e.where.row or 0))
    plans = [_plan(devices[r.name], r) for r in rows]
    if not dry_run:
        _apply(session, devices, plans)
    return plans


def _check_row(row: CsvRow, source: str, devices: dict[str, Device]) -> list[ValidationError]:
    def where(field_name: str) -> Location:
        return Location(source, row=row.row, field=field_name)

    if not row.name:
        return [ValidationError("no device name", where("name"))]
    device = devices.get(row.name)
    if device is None:
        return [ValidationError(f"no device named {shown(row.name)} in the inventory", where("name"))]
    problems = []
    for column in ("serial", "asset_tag", "bmc_username"):
        if column in row.values:
            try:  # serials, tags and user names hold no spaces, quotes or shell syntax
                check_token(row.values[column], column, where(column))
            except ValidationError as exc:
                problems.append(exc)
    checks = {"bmc_address": fields.ip_address, "bmc_port": fields.port}
    for column, check in checks.items():
        if column in row.values:
            try:
                check(row.values[column], where(column))
            except ValidationError as exc:
                problems.append(exc)
    has_address = "bmc_address" in row.values or (device.mgmt is not None and device.mgmt.address)
    if not has_address and row.values.keys() & _MGMT_FIELDS.keys():
        problems.append(ValidationError(f"{row.name} has no BMC address: add one", where("bmc_address")))
    for iface, mac in row.macs.items():
        if device.interface(iface) is None:
            problems.append(ValidationError(f"{row.name} has no interface '{iface}'", where(f"mac:{iface}")))
        elif normalise_mac(mac) is None:
            problems.append(ValidationError(f"'{mac}' is not a MAC address", where(f"mac:{iface}")))
    return problems


def _unique_values(row: CsvRow) -> list[tuple[str, str]]:
    """(kind, value) pairs of the row that no other device may hold."""
    pairs = [(k, row.values[k]) for k in (*_DEVICE_FIELDS, "bmc_address") if k in row.values]
    return pairs + [("mac", normalise_mac(m) or m) for m in row.macs.values()]


def _check_unique(rows: list[CsvRow], source: str) -> list[ValidationError]:
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for row in rows:
        for key in [("name", row.name)] + [fields.key(k, v) for k, v in _unique_values(row)]:
            if key in seen:
                where = Location(source, row=row.row, field=key[0])
                problems.append(ValidationError(f"{key[0]} {key[1]} also on row {seen[key]}", where))
            seen.setdefault(key, row.row)
    return problems


def _released(rows: list[CsvRow], devices: dict[str, Device]) -> set[tuple[str, str]]:
    """Values the file takes away from their devices: free for another row of the same file."""
    released = set()
    for row in rows:
        device = devices[row.name]
        current = {k: getattr(device, k) for k in _DEVICE_FIELDS}
        current["bmc_address"] = device.mgmt.address if device.mgmt else None
        for column in row.values.keys() & current.keys():
            if current[column]:
                released.add(fields.key(column, current[column]))
        for iface in row.macs:
            old = device.interface(iface)
            if old is not None and old.mac:
                released.add(fields.key("mac", old.mac))
    return released


def _check_inventory(
    session: Session, rows: list[CsvRow], source: str, devices: dict[str, Device]
) -> list[ValidationError]:
    owners = fields.owners(session)
    for key in _released(rows, devices):
        owners.pop(key, None)
    problems = []
    for row in rows:
        for kind, value in _unique_values(row):
            try:
                fields.free(owners, kind, value, row.name, Location(source, row=row.row, field=kind))
            except ValidationError as exc:
                problems.append(exc)
    return problems


def _plan(device: Device, row: CsvRow) -> RowPlan:
    plan = RowPlan(row.row, row.name)
    for column in _DEVICE_FIELDS:
        if column in row.values and getattr(device, column) != row.values[column]:
            plan.changes[column] = (getattr(device, column), row.values[column])
    for column, attr in _MGMT_FIELDS.items():
        if column in row.values:
            old = getattr(device.mgmt, attr) if device.mgmt else None
            new: Any = int(row.values[column]) if column == "bmc_port" else row.values[column]
            if old != new:
                plan.changes[column] = (old, new)
    for iface, mac in row.macs.items():
        interface = device.interface(iface)
        new_mac = normalise_mac(mac)
        if interface is not None and interface.mac != new_mac:
            plan.changes[f"mac:{iface}"] = (interface.mac, new_mac)
    return plan


def _apply(session: Session, devices: dict[str, Device], plans: list[RowPlan]) -> None:
    # Two devices may swap a serial (or MAC, or address): clear what moves first, so that no
    # statement ever sees one value on two devices, then set the new values.
    for plan in plans:
        moving = [k for k in plan.changes if k in _UNIQUE or k.startswith("mac:")]
        # A placeholder address that is a valid host name (the name rule holds at every step) and can never resolve.
        placeholder = f"moving-row{plan.row}.invalid"
        _set(devices[plan.name], {k: (None if k != "bmc_address" else placeholder) for k in moving})
    session.flush()
    for plan in plans:
        _set(devices[plan.name], {k: after for k, (_, after) in plan.changes.items()})
    session.flush()


def _set(device: Device, values: dict[str, Any]) -> None:
    for column, value in values.items():
        if column in _DEVICE_FIELDS:
            setattr(device, column, value)
        elif column in _MGMT_FIELDS:
            if device.mgmt is None:
                device.mgmt = ManagementEndpoint(address="", protocol=MgmtProtocol.AUTO)
            setattr(device.mgmt, _MGMT_FIELDS[column], value)
        else:
            interface = device.interface(column.removeprefix("mac:"))
            assert interface is not None  # checked before
            interface.mac = value
