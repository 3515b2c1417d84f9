"""How to read and write Redfish resources as real BMCs serve them: the differences as data.

Each entry says which BMC needs it. Functions here are pure (resource dict in, value out), so the
recorded vendor resources in tests/data/redfish exercise them directly.
"""

from __future__ import annotations

from typing import Any

from rackctl.drivers.base import BootSetting, LogEntry
from rackctl.errors import Unsupported
from rackctl.types import BootDevice, Health, PowerAction, PowerState, SensorReading

# ResetType preferences per action: the first one the BMC lists in ResetType@Redfish.AllowableValues wins.
# NOTE(Dell iDRAC 9): no "PowerCycle" on older firmware, ForceRestart instead; NOTE(HPE iLO 5): "PushPowerButton"
# is the only graceful path on some systems; NOTE(sushy-tools): no AllowableValues at all, so the first entry.
RESET_PREFERENCES: dict[PowerAction, tuple[str, ...]] = {
    PowerAction.ON: ("On", "ForceOn", "PushPowerButton"),
    PowerAction.OFF: ("ForceOff", "PushPowerButton"),
    PowerAction.SOFT: ("GracefulShutdown", "PushPowerButton"),
    PowerAction.CYCLE: ("PowerCycle", "ForceRestart"),
    PowerAction.RESET: ("ForceRestart", "GracefulRestart", "PowerCycle"),
}
BOOT_TARGETS = {BootDevice.PXE: "Pxe", BootDevice.DISK: "Hdd", BootDevice.BIOS: "BiosSetup", BootDevice.CD: "Cd"}
_HEALTH = {"OK": Health.OK, "Warning": Health.WARNING, "Critical": Health.CRITICAL}
_POWER = {"On": PowerState.ON, "PoweringOff": PowerState.ON, "Off": PowerState.OFF, "PoweringOn": PowerState.OFF}


def field(resource: dict[str, Any], key: str) -> Any:
    """A property by name, the exact spelling first, then any casing.

    NOTE(HPE iLO): EthernetInterface names the MAC `MacAddress`, not `MACAddress` (ansible/ansible#54167).
    """
    if key in resource:
        return resource[key]
    return next((value for name, value in resource.items() if name.lower() == key.lower()), None)


def link(resource: dict[str, Any], key: str) -> str | None:
    """The @odata.id a property links to."""
    value = field(resource, key)
    return str(value["@odata.id"]) if isinstance(value, dict) and value.get("@odata.id") else None


def links(resource: dict[str, Any], key: str) -> list[str]:
    """Paths listed under Links.<key> (a list of {"@odata.id": ...})."""
    found = field(field(resource, "Links") or {}, key) or []
    return [str(item["@odata.id"]) for item in found if isinstance(item, dict) and item.get("@odata.id")]


def member_paths(collection: dict[str, Any]) -> list[str]:
    """Member paths of a collection. NOTE(HPE iLO 4/5): members end in a slash; kept as served, compared without."""
    return [str(m["@odata.id"]) for m in collection.get("Members", []) if isinstance(m, dict) and m.get("@odata.id")]


def next_page(collection: dict[str, Any]) -> str | None:
    """The link to a collection's next page. NOTE(Dell iDRAC Sel/Lclog): 50 entries a page, then
    `Members@odata.nextLink` (DMTF's mockups write the older `@odata.nextLink`)."""
    value = collection.get("Members@odata.nextLink") or collection.get("@odata.nextLink")
    return str(value) if value else None


def is_reference(member: dict[str, Any]) -> bool:
    """Whether a collection member only names a resource (links, Id, Name) rather than carrying it.

    Collections list links by the specification; log entry collections usually carry the entries, but
    not on every BMC or page (stmcginnis/gofish#243 shows members with only @odata.id, @odata.type, Id).
    """
    names = {"Id", "Name"} | {key for key in member if key.startswith("@odata.")}
    return bool(member.get("@odata.id")) and set(member) <= names


def power_state(value: Any) -> PowerState:
    return _POWER.get(str(value), PowerState.UNKNOWN)


def health(status: dict[str, Any] | None) -> Health:
    if not status:
        return Health.UNKNOWN
    if str(status.get("State", "Enabled")) in ("Absent", "UnavailableOffline"):
        return Health.UNKNOWN
    return _HEALTH.get(str(status.get("Health")), Health.UNKNOWN)


def action_target(resource: dict[str, Any], name: str) -> str | None:
    action = (resource.get("Actions") or {}).get(name) or {}
    return str(action["target"]) if action.get("target") else None


def reset_action(system: dict[str, Any]) -> tuple[str, list[str]]:
    """The system's ComputerSystem.Reset target and the reset types it allows (empty: not listed)."""
    action = (system.get("Actions") or {}).get("#ComputerSystem.Reset") or {}
    if not action.get("target"):
        raise Unsupported("this system has no ComputerSystem.Reset action")
    allowed = action.get("ResetType@Redfish.AllowableValues") or []
    return str(action["target"]), [str(v) for v in allowed]


def choose_reset_type(action: PowerAction, allowed: list[str]) -> str:
    preferences = RESET_PREFERENCES[action]
    if not allowed:
        return preferences[0]
    for candidate in preferences:
        if candidate in allowed:
            return candidate
    raise Unsupported(f"the BMC allows {', '.join(allowed)}; none of them does '{action.value}'")


def boot_override(device: BootDevice, persistent: bool, uefi: bool) -> dict[str, str]:
    return {
        "BootSourceOverrideTarget": BOOT_TARGETS[device],
        "BootSourceOverrideEnabled": "Continuous" if persistent else "Once",
        "BootSourceOverrideMode": "UEFI" if uefi else "Legacy",
    }


def boot_setting(boot: dict[str, Any]) -> BootSetting:
    by_target = {v: k for k, v in BOOT_TARGETS.items()}
    enabled = str(boot.get("BootSourceOverrideEnabled", "Disabled"))
    device = by_target.get(str(boot.get("BootSourceOverrideTarget"))) if enabled != "Disabled" else None
    mode = boot.get("BootSourceOverrideMode")
    return BootSetting(device, enabled == "Continuous", None if mode is None else mode == "UEFI")


def identify_body(system: dict[str, Any], on: bool) -> dict[str, Any]:
    """NOTE(Redfish 2020.3+ BMCs, e.g. iDRAC 9 5.x): LocationIndicatorActive replaces the deprecated IndicatorLED."""
    if "LocationIndicatorActive" in system:
        return {"LocationIndicatorActive": on}
    return {"IndicatorLED": "Blinking" if on else "Off"}


def _reading(name: str, kind: str, value: Any, unit: str, status: Any, state: str = "") -> SensorReading:
    number = float(value) if isinstance(value, int | float) else None
    return SensorReading(name, kind, number, unit, health(status if isinstance(status, dict) else None), state)


def thermal_readings(thermal: dict[str, Any]) -> list[SensorReading]:
    temps = [
        _reading(str(t.get("Name") or t.get("MemberId")), "temperature", t.get("ReadingCelsius"), "°C", t.get("Status"))
        for t in _dicts(thermal, "Temperatures")
    ]
    fans = [
        _reading(
            str(f.get("Name") or f.get("FanName") or f.get("MemberId")),
            "fan",
            f.get("Reading"),
            str(f.get("ReadingUnits") or "RPM"),
            f.get("Status"),
        )
        for f in _dicts(thermal, "Fans")
    ]
    return temps + fans


def _psu_readings(psu: dict[str, Any]) -> list[SensorReading]:
    name, status = str(psu.get("Name") or psu.get("MemberId")), psu.get("Status")
    readings = [_reading(name, "psu", None, "", status, str((status or {}).get("State") or ""))]
    # The PSU's health is its own reading's; repeating it on its watts would list one fault twice.
    if isinstance(psu.get("PowerInputWatts"), int | float):
        readings.append(_reading(f"{name} Power In", "power", psu["PowerInputWatts"], "W", None))
    elif isinstance(psu.get("LastPowerOutputWatts"), int | float):
        # NOTE(DMTF public-rackmount1, iLO 4/5 Power resources): output only; not input, so not "power"
        readings.append(_reading(f"{name} Power Out", "other", psu["LastPowerOutputWatts"], "W", None))
    return readings


def power_readings(power: dict[str, Any]) -> list[SensorReading]:
    """PSU state and input power, voltages, and the chassis' consumed power.

    The chassis total (PowerControl) is the sum of the PSUs' input: it counts as "power" only when no
    PSU reports its input, so that adding up the "power" readings never counts a watt twice.
    """
    readings = [r for psu in _dicts(power, "PowerSupplies") for r in _psu_readings(psu)]
    readings += [
        _reading(str(v.get("Name") or v.get("MemberId")), "voltage", v.get("ReadingVolts"), "V", v.get("Status"))
        for v in _dicts(power, "Voltages")
    ]
    total_kind = "other" if any(r.kind == "power" for r in readings) else "power"
    readings += [
        _reading(str(c.get("Name") or "System Power"), total_kind, c["PowerConsumedWatts"], "W", c.get("Status"))
        for c in _dicts(power, "PowerControl")
        if isinstance(c.get("PowerConsumedWatts"), int | float)
    ]
    return readings


def _dicts(resource: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [item for item in resource.get(key) or [] if isinstance(item, dict)]


def log_entry(entry: dict[str, Any]) -> LogEntry:
    severity = _HEALTH.get(str(entry.get("Severity") or entry.get("MessageSeverity")), Health.UNKNOWN)
    return LogEntry(
        id=str(entry.get("Id", "")),
        timestamp=str(entry.get("Created") or ""),
        severity=severity,
        message=str(entry.get("Message") or ""),
        sensor=str(entry.get("SensorType") or ""),
    )


# NOTE(SMBIOS-fed BMCs, e.g. Supermicro): unprogrammed identity fields hold filler, not blanks
# (lf-edge/eve#6381 lists these); they name no machine, so they count as empty.
PLACEHOLDERS = frozenset(
    {
        "to be filled by o.e.m.",
        "default string",
        "not specified",
        "not available",
        "none",
        "n/a",
        "na",
        "0",
        "0123456789",
        "system serial number",
        "system manufacturer",
        "system product name",
        "chassis serial number",
        "chassis manufacturer",
    }
)


def identity(value: Any) -> str:
    """An identity field (manufacturer, model, serial) as text; blanks and SMBIOS filler become ""."""
    text = str(value or "").strip()
    return "" if text.lower() in PLACEHOLDERS else text


def nic_mac(nic: dict[str, Any]) -> str | None:
    """The MAC of one of the machine's own NICs; None for VLANs and the BMC's host interface.

    NOTE(DMTF public-rackmount1, iDRAC/iLO host interfaces): a VLAN repeats its parent's MAC
    (EthernetInterfaceType "Virtual") and the Redfish host interface (Links.HostInterface) is the
    BMC's USB NIC, not a port of the machine.
    """
    if field(nic, "EthernetInterfaceType") == "Virtual" or link(field(nic, "Links") or {}, "HostInterface"):
        return None
    mac = field(nic, "MACAddress") or field(nic, "PermanentMACAddress")
    return str(mac) if mac else None


def error_message(reply: Any) -> str:
    """The human part of a Redfish error body, or the raw text."""
    try:
        error = reply.dict.get("error", {})
        extended = error.get("@Message.ExtendedInfo") or [{}]
        return str(extended[0].get("Message") or error.get("message") or reply.text[:200])
    except (AttributeError, ValueError, TypeError):
        return str(getattr(reply, "text", ""))[:200]
