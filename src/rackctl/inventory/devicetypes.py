"""Import device types written in the NetBox community devicetype-library YAML format.

Real files are uneven, so the reader takes what is there, fills gaps from explicit overrides (an
`x-rackctl:` section in the file, or an overrides file keyed by slug), and reports what it could not
use. Structural errors (no slug, malformed YAML) refuse the whole import: nothing is written.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory.devicetype_fields import MAX_U as _MAX_U
from rackctl.inventory.devicetype_fields import check_override
from rackctl.inventory.devicetype_fields import load_overrides as load_overrides  # public here too (cli, tests)
from rackctl.inventory.devicetype_fields import number as _number
from rackctl.inventory.devicetype_fields import text as _text
from rackctl.inventory.models import (
    DeviceType,
    DeviceTypeConsolePort,
    DeviceTypeInterface,
    DeviceTypeModuleBay,
    DeviceTypeOutlet,
    DeviceTypePowerPort,
)
from rackctl.inventory.names import check_interface, check_name, check_text, check_token
from rackctl.types import InterfaceKind
from rackctl.yamlsrc import load_file, locate

EXTENSION_KEY = "x-rackctl"
_USED_KEYS = {
    "manufacturer",
    "model",
    "slug",
    "u_height",
    "is_full_depth",
    "airflow",
    "weight",
    "weight_unit",
    "power-ports",
    "power-outlets",
    "interfaces",
    "console-ports",
    "console-server-ports",
    "module-bays",
    "part_number",
    "comments",
    "description",
    EXTENSION_KEY,
}


_WEIGHT_TO_KG = {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523}
_IB_SPEEDS = {
    "sdr": 10,
    "ddr": 20,
    "qdr": 40,
    "fdr10": 40,
    "fdr": 56,
    "edr": 100,
    "hdr": 200,
    "ndr": 400,
    "xdr": 800,
}
_ETH_SPEED = re.compile(r"^(\d+(?:\.\d+)?)(g|m)?base", re.IGNORECASE)
_PSU_BAY = re.compile(r"^(psu|ps|power[ -]?supply)[ _-]?\d+$", re.IGNORECASE)


@dataclass
class FileReport:
    """What one file gave the catalogue, and what it could not."""

    source: str
    slug: str
    action: str = "created"  # created, updated, unchanged
    notes: list[str] = field(default_factory=list)


def find_files(paths: list[Path]) -> list[Path]:
    """Every .yml/.yaml file named, or found below a named folder, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise ValidationError("no such file or folder", locate(None, [], str(path)))
    return found


def import_files(
    session: Session, paths: list[Path], overrides: dict[str, dict[str, Any]] | None = None
) -> list[FileReport]:
    """Create or update a device type per file; the caller's transaction makes it all-or-nothing."""
    reports = []
    seen: dict[str, str] = {}
    for path in find_files(paths):
        data = load_file(path)
        report = _import_one(session, data, str(path), overrides or {})
        if report.slug in seen:
            raise ValidationError(
                f"slug '{report.slug}' is also defined in {seen[report.slug]}",
                locate(data, ["slug"], str(path)),
            )
        seen[report.slug] = str(path)
        reports.append(report)
    return reports


def _import_one(session: Session, data: Any, source: str, overrides: dict[str, dict[str, Any]]) -> FileReport:
    if not isinstance(data, dict):
        raise ValidationError("a device type file is a YAML mapping", locate(data, [], source))
    for key in ("manufacturer", "model", "slug"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValidationError(f"'{key}' is required", locate(data, [key], source))
    slug = check_name(data["slug"], "slug", locate(data, ["slug"], source), limit=100)
    for key in ("manufacturer", "model"):
        check_text(data[key], key, locate(data, [key], source), limit=100)
    extension = data.get(EXTENSION_KEY) or {}
    check_override(extension, source, data, [EXTENSION_KEY])
    extra = {**extension, **overrides.get(slug, {})}
    report = FileReport(source, slug)
    unused = sorted(k for k in data if k not in _USED_KEYS)
    if unused:
        report.notes.append("not used: " + ", ".join(unused))
    existing = session.scalars(select(DeviceType).where(DeviceType.slug == slug)).one_or_none()
    dtype = existing or DeviceType(slug=slug)
    report.action = "updated" if existing else "created"
    if existing is not None:
        _drop_components(session, existing)
    _fill_scalars(dtype, data, extra, source, report)
    _fill_components(dtype, data, extra, source, report)
    if existing is None:
        session.add(dtype)
    return report


def _drop_components(session: Session, dtype: DeviceType) -> None:
    # Components are unique by (type, name) and the unit of work inserts before it deletes: the old
    # rows must be gone before the file's components take their names again.
    for collection in ("power_ports", "outlets", "interfaces", "console_ports", "module_bays"):
        setattr(dtype, collection, [])
    session.flush()


def _token(data: Any, key: str, source: str) -> str | None:
    """An identifier such as a NetBox type slug (`iec-60320-c13`, `400gbase-x-osfp`)."""
    value = _text(data, key, source)
    return None if value is None else check_token(value, key, locate(data, [key], source))


def _fill_scalars(dtype: DeviceType, data: Any, extra: dict[str, Any], source: str, report: FileReport) -> None:
    dtype.manufacturer = data["manufacturer"]
    dtype.model = data["model"]
    u_source = extra if "u_height" in extra else data
    u_height = _number(u_source, "u_height", source, limit=_MAX_U)
    dtype.u_height = 1.0 if u_height is None else u_height
    dtype.is_full_depth = bool(data.get("is_full_depth", True))
    dtype.airflow = _text(extra, "airflow", source) or _text(data, "airflow", source)
    weight = _number(data, "weight", source)
    unit = str(data.get("weight_unit", "kg")).lower()
    if weight is not None and unit not in _WEIGHT_TO_KG:
        report.notes.append(f"weight unit '{unit}' unknown: weight not used")
        weight = None
    dtype.weight_kg = _number(extra, "weight_kg", source) or (weight * _WEIGHT_TO_KG[unit] if weight else None)
    dtype.gpu_model = _text(extra, "gpu_model", source)
    dtype.gpu_count = _number(extra, "gpu_count", source, int) or 0
    dtype.max_draw_w = _number(extra, "max_draw_w", source, int)
    dtype.inrush_w = _number(extra, "inrush_w", source, int)
    dtype.rated_power_w = _number(extra, "rated_power_w", source, int)
    dtype.psu_rating_w = _number(extra, "psu_rating_w", source, int)
    dtype.psu_min_running = _number(extra, "psu_min_running", source, int)
    dtype.source = source


def _items(data: Any, key: str, source: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(i, dict) and i.get("name") is not None for i in value):
        raise ValidationError(f"'{key}' must be a list of mappings with a name", locate(data, [key], source))
    for index, item in enumerate(value):
        where = locate(data, [key, index, "name"], source)
        # Module bays are only labels; every other component becomes a port or interface of devices.
        if key == "module-bays":
            check_text(str(item["name"]), "module bay name", where, limit=64)
        else:
            check_interface(str(item["name"]), f"{key.rstrip('s').replace('-', ' ')} name", where)
    return value


def _fill_components(dtype: DeviceType, data: Any, extra: dict[str, Any], source: str, report: FileReport) -> None:
    dtype.power_ports = _first_of_each_name(_power_ports(data, extra, source, report), "power port", report)
    outlets = [
        DeviceTypeOutlet(
            name=str(o["name"]),
            type=_token(o, "type", source),
            feed_leg=_text(o, "feed_leg", source),
            power_port=_text(o, "power_port", source),
        )
        for o in _items(data, "power-outlets", source)
    ]
    dtype.outlets = _first_of_each_name(outlets, "power outlet", report)
    interfaces = [_interface(i, extra, source) for i in _items(data, "interfaces", source)]
    dtype.interfaces = _first_of_each_name(interfaces, "interface", report)
    unknown = sorted({i.type or "" for i in dtype.interfaces if i.speed_mbps is None and i.kind != InterfaceKind.BOND})
    if unknown:
        report.notes.append(f"speed unknown for interface type(s) {', '.join(unknown)}")
    console_ports = [
        DeviceTypeConsolePort(name=str(c["name"]), type=_token(c, "type", source), server=server)
        for key, server in (("console-ports", False), ("console-server-ports", True))
        for c in _items(data, key, source)
    ]
    # A device gets one interface per interface and console port, so their names must not meet either.
    taken = {i.name for i in dtype.interfaces}
    dtype.console_ports = _first_of_each_name(console_ports, "console port", report, taken)
    bays = [
        DeviceTypeModuleBay(name=str(m["name"]), position=_text(m, "position", source))
        for m in _items(data, "module-bays", source)
    ]
    dtype.module_bays = _first_of_each_name(bays, "module bay", report)
    _power_notes(dtype, report)


def _first_of_each_name(
    components: list[Any], what: str, report: FileReport, taken: set[str] | None = None
) -> list[Any]:
    """Keep the first component of each name (the inventory holds names once) and report the others."""
    seen = set(taken or ())
    kept = []
    for component in components:
        if component.name in seen:
            report.notes.append(f"{what} '{component.name}' named twice: the second not used")
            continue
        seen.add(component.name)
        kept.append(component)
    return kept


def _power_notes(dtype: DeviceType, report: FileReport) -> None:
    if not dtype.power_ports and not dtype.outlets and not dtype.max_draw_w:
        report.notes.append("no power figures: give max_draw_w in an override")
    # A PDU's inlet passes its outlets' load through: it has no draw of its own to give.
    if not dtype.power_ports or dtype.outlets or dtype.max_draw_w:
        return
    missing = [p.name for p in dtype.power_ports if not p.maximum_draw_w]
    if len(missing) == len(dtype.power_ports):
        report.notes.append("power ports carry no maximum_draw: give max_draw_w in an override")
    elif missing:
        # The draw adds up the ports' maxima, so the ports without one would be counted as 0 W.
        report.notes.append(
            f"no maximum_draw on {', '.join(missing)}: the draw counts only the other ports"
            " (give power_ports or max_draw_w in an override)"
        )


def _power_ports(data: Any, extra: dict[str, Any], source: str, report: FileReport) -> list[DeviceTypePowerPort]:
    filled = extra.get("power_ports") or {}

    def draw(port: Any, key: str) -> int | None:
        return _number(port, key, source, int) or _number(filled.get(str(port["name"]), {}), key, source, int)

    ports = [
        DeviceTypePowerPort(
            name=str(p["name"]),
            type=_token(p, "type", source),
            maximum_draw_w=draw(p, "maximum_draw"),
            allocated_draw_w=draw(p, "allocated_draw"),
        )
        for p in _items(data, "power-ports", source)
    ]
    if ports or extra.get("psus_from_module_bays") is False:
        return ports
    bays = [str(m["name"]) for m in _items(data, "module-bays", source) if _PSU_BAY.match(str(m["name"]))]
    # A bay is a label and may hold spaces ("PSU 1"); the port made from it follows the name rule.
    ports = {name: "-".join(name.split()) for name in bays}
    if bays:
        named = [bay if port == bay else f"{bay} as {port}" for bay, port in ports.items()]
        report.notes.append(f"power ports taken from PSU module bays: {', '.join(named)}")
    return [
        DeviceTypePowerPort(
            name=port,
            maximum_draw_w=draw({"name": bay}, "maximum_draw"),
            allocated_draw_w=draw({"name": bay}, "allocated_draw"),
        )
        for bay, port in ports.items()
    ]


def _interface(item: dict[str, Any], extra: dict[str, Any], source: str) -> DeviceTypeInterface:
    name, itype = str(item["name"]), _token(item, "type", source) or "other"
    mgmt = bool(item.get("mgmt_only", False))
    kind, speed = classify_interface(itype, mgmt)
    for pattern, values in (extra.get("interfaces") or {}).items():
        if fnmatch.fnmatchcase(name, pattern):
            kind = InterfaceKind(values.get("kind", kind))
            speed = values.get("speed_mbps", speed)
    return DeviceTypeInterface(name=name, type=itype, kind=kind, speed_mbps=speed, mgmt_only=mgmt)


def classify_interface(itype: str, mgmt_only: bool = False) -> tuple[InterfaceKind, int | None]:
    """The kind and speed (Mb/s) a NetBox interface type stands for."""
    lowered = itype.lower()
    if lowered.startswith("infiniband-"):
        gbps = _IB_SPEEDS.get(lowered.removeprefix("infiniband-"))
        return InterfaceKind.INFINIBAND, gbps * 1000 if gbps else None
    if lowered == "lag":
        return InterfaceKind.BOND, None
    match = _ETH_SPEED.match(lowered)
    speed = None
    if match:
        value = float(match.group(1))
        speed = int(value * 1000) if match.group(2) == "g" else int(value)  # 1000base-t: no unit, Mb/s
    return (InterfaceKind.BMC if mgmt_only else InterfaceKind.ETHERNET), speed
