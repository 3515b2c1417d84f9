"""Redfish BIOS: the Bios resource, its settings object (pending until the next reset), the Attribute Registry.

The flow Ironic's redfish BIOS interface and DMTF's Redfish-Tacklebox (`rf_bios_settings.py`) use:
read Bios, PATCH the resource its @Redfish.Settings names, reset, read Bios again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackctl.drivers import redfish_bios_quirks as bq
from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers.bmcconfig import AttributeSpec, BiosState
from rackctl.drivers.redfish_calls import RedfishCalls
from rackctl.errors import Unsupported


class RedfishBios(RedfishCalls):
    """BiosConfig over the driver's session."""

    def _bios_resource(self) -> tuple[dict[str, Any], dict[str, Any]]:
        system = self._system_resource()
        link = quirks.link(system, "Bios")
        bios = self._get(link, "BIOS", optional=True) if link else None
        if not bios:
            raise Unsupported("this BMC offers no BIOS resource")
        return system, bios

    def bios(self) -> BiosState:
        system, bios = self._bios_resource()
        current = dict(bios.get("Attributes") or {})
        link = bq.settings_link(bios)
        staged = (self._get(link, "BIOS settings", optional=True) or {}) if link else {}
        return BiosState(
            attributes=current,
            pending=bq.pending(current, dict(staged.get("Attributes") or {})),
            registry=str(bios.get("AttributeRegistry") or ""),
            vendor=quirks.identity(system.get("Manufacturer")),
            apply_times=bq.apply_times(bios),
        )

    def bios_registry(self, name: str) -> dict[str, AttributeSpec]:
        if not name:
            return {}
        link = quirks.link(self._root(), "Registries")
        files = self._collection(link, "registry files") if link else []
        for file in bq.registry_candidates(files, name):
            uri = bq.registry_uri(file)
            registry = (self._get(uri, "attribute registry", optional=True) or {}) if uri else {}
            if registry.get("Id") == name or name in (file.get("Id"), file.get("Registry")):
                return bq.registry_attributes(registry)
        return {}

    def set_bios(self, attributes: Mapping[str, Any]) -> None:
        _, bios = self._bios_resource()
        target = bq.settings_link(bios) or str(bios.get("@odata.id") or "")
        self._send("patch", target, bq.settings_body(attributes, bq.apply_times(bios)), "BIOS settings")

    def _secure_boot_link(self) -> str:
        link = quirks.link(self._system_resource(), "SecureBoot")
        if not link:
            raise Unsupported("this BMC offers no SecureBoot resource")
        return link

    def secure_boot(self) -> bool:
        resource = self._get(self._secure_boot_link(), "secure boot") or {}
        return bool(resource.get("SecureBootEnable"))

    def set_secure_boot(self, enabled: bool) -> None:
        """UEFI Secure Boot on or off; like BIOS attributes it takes effect at the next boot."""
        self._send("patch", self._secure_boot_link(), {"SecureBootEnable": enabled}, "secure boot")
