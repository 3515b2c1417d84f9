"""BIOS resources and Attribute Registries as real BMCs serve them: the differences as data, pure functions.

Sources: DMTF's public-rackmount1 mockup (Bios and Bios/Settings), sushy-tools 2.2.0's emulator templates,
the client side of OpenStack sushy (sushy/resources/base.py `_get_registry`, commit 820c32f), Dell's
GetSetBiosAttributesREDFISH.py (iDRAC-Redfish-Scripting e7ba763), HPE's iLO 5 Bios resource definitions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers.bmcconfig import AttributeSpec


def settings_link(bios: Mapping[str, Any]) -> str | None:
    """Where staged changes go: the @Redfish.Settings SettingsObject (None: the BMC applies on the Bios itself)."""
    settings = bios.get("@Redfish.Settings") or {}
    return quirks.link(dict(settings), "SettingsObject") if isinstance(settings, dict) else None


def apply_times(bios: Mapping[str, Any]) -> tuple[str, ...]:
    settings = bios.get("@Redfish.Settings") or {}
    return tuple(str(t) for t in (settings.get("SupportedApplyTimes") or [])) if isinstance(settings, dict) else ()


def pending(current: Mapping[str, Any], staged: Mapping[str, Any]) -> dict[str, Any]:
    """The staged values that differ from the current ones.

    NOTE(DMTF public-rackmount1): the settings object repeats every attribute; NOTE(Dell iDRAC 9): it holds only
    the staged ones; NOTE(sushy-tools 2.x): it echoes the current attributes (changes apply at once). Comparing
    covers all three.
    """
    return {name: value for name, value in staged.items() if current.get(name) != value}


def settings_body(attributes: Mapping[str, Any], supported: tuple[str, ...]) -> dict[str, Any]:
    """The PATCH for the settings object.

    NOTE(Dell iDRAC 9): without @Redfish.SettingsApplyTime no BIOS job is created and nothing applies at the
    next reset (GetSetBiosAttributesREDFISH.py sends {"ApplyTime": "OnReset"}); BMCs that list no
    SupportedApplyTimes (DMTF mockup, sushy-tools) get the attributes alone.
    """
    body: dict[str, Any] = {"Attributes": dict(attributes)}
    if "OnReset" in supported:
        body["@Redfish.SettingsApplyTime"] = {"ApplyTime": "OnReset"}
    return body


def registry_candidates(files: Sequence[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    """The registry files that may hold `name`, the likeliest first.

    NOTE(sushy-tools 2.x): the Bios names "BiosAttributeRegistryP89.v1_0_0" while its file says Id
    "BiosAttributeRegistry.v1_0_0" and Registry "BiosAttributeRegistry1.0"; only the loaded registry's Id
    matches, which is how OpenStack sushy finds it (it compares the loaded registry's identity too).
    """
    exact = [f for f in files if name in (f.get("Id"), f.get("Registry"))]
    family = name.split(".")[0].lower()
    loose = [f for f in files if f not in exact and _looks_like_attributes(f, family)]
    return exact + loose


def _looks_like_attributes(file: Mapping[str, Any], family: str) -> bool:
    text = f"{file.get('Id', '')} {file.get('Registry', '')}".lower()
    return family in text or "attribute" in text or "bios" in text


def registry_uri(file: Mapping[str, Any], language: str = "en") -> str | None:
    """The registry's own location in a registry file; the requested language first.

    NOTE(HPE iLO 5): a location may name the registry by `Uri` or only by `PublicationUri`/`ArchiveUri`;
    only `Uri` is served by the BMC itself.
    """
    locations = [loc for loc in file.get("Location") or [] if isinstance(loc, dict) and loc.get("Uri")]
    preferred = [loc for loc in locations if str(loc.get("Language", "")).lower().split("-")[0] == language]
    chosen = (preferred or locations)[:1]
    return str(chosen[0]["Uri"]) if chosen else None


def registry_attributes(registry: Mapping[str, Any]) -> dict[str, AttributeSpec]:
    """AttributeSpecs by name from an AttributeRegistry resource."""
    entries = (registry.get("RegistryEntries") or {}).get("Attributes") or []
    specs = (_spec(entry) for entry in entries if isinstance(entry, dict) and entry.get("AttributeName"))
    return {spec.name: spec for spec in specs}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _spec(entry: Mapping[str, Any]) -> AttributeSpec:
    values = [v for v in entry.get("Value") or [] if isinstance(v, dict)]
    return AttributeSpec(
        name=str(entry["AttributeName"]),
        type=str(entry.get("Type") or "String"),
        values=tuple(str(v.get("ValueName")) for v in values if v.get("ValueName") is not None),
        read_only=bool(entry.get("ReadOnly") or entry.get("Immutable")),
        lower=_int(entry.get("LowerBound")),
        upper=_int(entry.get("UpperBound")),
        max_length=_int(entry.get("MaxLength")),
    )
