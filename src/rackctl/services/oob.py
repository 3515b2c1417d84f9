"""Out-of-band reads and settings other than power: boot device, sensors, event logs, identify,
hardware inventory (and writing what the BMC reports back into the inventory)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rackctl.drivers.base import BootControl, EventLog, FirmwareInventory, HardwareInventory, Identify, SensorReader
from rackctl.errors import ValidationError
from rackctl.inventory import queries
from rackctl.inventory.csvimport import normalise_mac
from rackctl.inventory.db import utcnow
from rackctl.inventory.models import Device
from rackctl.inventory.names import check_token
from rackctl.services.bmc import require
from rackctl.types import BootDevice, Health
from rackctl.versions import same_version


@dataclass(frozen=True)
class Done:
    """A result whose value is only a message (and optional detail for the log)."""

    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def set_boot(device: BootDevice, persistent: bool, uefi: bool) -> Callable[[Any], Done]:
    def apply(bmc: Any) -> Done:
        require(bmc, BootControl)
        bmc.set_boot(device, persistent=persistent, uefi=uefi)
        how = "every boot" if persistent else "next boot only"
        return Done(
            f"boot from {device.value} ({how}, {'UEFI' if uefi else 'legacy'})",
            {"device": device.value, "persistent": persistent, "uefi": uefi},
        )

    return apply


def read_sensors(bmc: Any) -> list[Any]:
    require(bmc, SensorReader)
    return list(bmc.sensors())


def read_events(bmc: Any) -> list[Any]:
    require(bmc, EventLog)
    return list(bmc.events())


def clear_events(bmc: Any) -> Done:
    require(bmc, EventLog)
    count = len(bmc.events())
    bmc.clear_events()
    return Done(f"cleared {count} event(s)", {"cleared": count})


def identify(on: bool) -> Callable[[Any], Done]:
    def apply(bmc: Any) -> Done:
        require(bmc, Identify)
        bmc.identify(on)
        return Done("identify LED on" if on else "identify LED off")

    return apply


def read_inventory(bmc: Any) -> HardwareInventory:
    require(bmc, FirmwareInventory)
    return bmc.inventory()  # type: ignore[no-any-return]


def sensor_summary(readings: list[Any]) -> dict[str, Any]:
    """One line per node: temperatures, PSU input power, and what is not healthy."""
    temps = [r.value for r in readings if r.kind == "temperature" and r.value is not None]
    watts = sum(r.value for r in readings if r.kind == "power" and r.value is not None)
    bad = [f"{r.name} ({r.state or r.health.value})" for r in readings if r.health in (Health.WARNING, Health.CRITICAL)]
    return {
        "max_temp_c": max(temps, default=None),
        "power_w": round(watts) if watts else 0,
        "sensors": len(readings),
        "unhealthy": bad,
    }


@dataclass(frozen=True)
class Mismatch:
    device: str
    field: str
    expected: str
    observed: str


@dataclass(frozen=True)
class Skipped:
    """A value the BMC reported that `--update` did not write, and why (the device's other values were)."""

    device: str
    field: str
    observed: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} not recorded: {self.reason}"


@dataclass
class InventoryCheck:
    """One node's report against the inventory: what differs, and what `--update` left out."""

    mismatches: list[Mismatch] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def apply_inventory(session: Session, name: str, seen: HardwareInventory, update: bool) -> InventoryCheck:
    """Compare what the BMC reports with the inventory; with `update`, fill the inventory's gaps."""
    device = queries.device(session, name)
    profile = device.profile
    check = InventoryCheck()
    found = check.mismatches

    def compare(field_name: str, expected: str | None, observed: str, same: Callable[[str, str], bool]) -> None:
        if expected and observed and not same(expected, observed):
            found.append(Mismatch(name, field_name, expected, observed))

    compare("serial", device.serial, seen.serial, lambda a, b: a.strip().upper() == b.strip().upper())
    compare("bmc_firmware", profile.bmc_firmware if profile else None, seen.bmc_firmware, same_version)
    compare("bios_firmware", profile.bios_firmware if profile else None, seen.bios_firmware, same_version)
    for iface_name, mac in seen.macs.items():
        interface = device.interface(iface_name)
        if interface is not None:
            compare(f"mac:{iface_name}", interface.mac, normalise_mac(mac) or mac, str.__eq__)
            if update and not interface.mac:
                interface.mac = normalise_mac(mac)
    if update:
        if not device.serial and seen.serial:
            refused = unusable_serial(session, device, seen.serial)
            if refused:
                check.skipped.append(Skipped(name, "serial", seen.serial, refused))
            else:
                device.serial = seen.serial
        device.facts = {**(device.facts or {}), "bmc": _facts(seen)}
    return check


def unusable_serial(session: Session, device: Device, serial: str) -> str:
    """Why a BMC-reported serial cannot be the device's ("" if it can): BMCs report placeholders such as
    "To Be Filled By O.E.M." (refused by the token rule) and "0123456789" (on every board of a batch)."""
    try:
        check_token(serial, "serial")
    except ValidationError as exc:
        return str(exc)
    owner = session.scalar(
        select(Device.name).where(func.upper(Device.serial) == serial.strip().upper(), Device.id != device.id)
    )
    return f"{serial!r} is already the serial of {owner}" if owner else ""


def _facts(seen: HardwareInventory) -> dict[str, Any]:
    return {
        "manufacturer": seen.manufacturer,
        "model": seen.model,
        "serial": seen.serial,
        "bmc_firmware": seen.bmc_firmware,
        "bios_firmware": seen.bios_firmware,
        "power_supplies": list(seen.power_supplies),
        "seen_at": utcnow().isoformat(timespec="seconds"),
    }
