"""Redfish firmware: the FirmwareInventory, SimpleUpdate, multipart and raw HTTP push, tasks, BMC reset.

Flows as DMTF's Redfish-Tacklebox runs them (redfish_utilities/update.py and tasks.py): SimpleUpdate
with ImageURI, or a multipart POST of `UpdateParameters` (JSON) and `UpdateFile` to
MultipartHttpPushUri; the reply's Location (or a Task in its body) is followed until the task ends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from rackctl.drivers import redfish_update_quirks as fw
from rackctl.drivers.bmcconfig import FirmwareComponent, TaskStatus, UpdateService
from rackctl.drivers.redfish_calls import RedfishCalls, body_of
from rackctl.errors import AuthError, ConnectError, Unsupported


class RedfishFirmware(RedfishCalls):
    """FirmwareReader and FirmwareUpdater over the driver's session."""

    def _update_resource(self) -> dict[str, Any]:
        return self._service("UpdateService", "update service")

    def firmware(self) -> list[FirmwareComponent]:
        link = self._inventory_link()
        members = self._collection(link, "firmware inventory") if link else []
        found = [c for c in (fw.component(member) for member in members) if c is not None]
        # NOTE(sushy-tools 2.x): UpdateService links a FirmwareInventory that answers 404.
        return found or self._fallback_components()

    def _inventory_link(self) -> str | None:
        try:
            return fw.inventory_link(self._update_resource())
        except Unsupported:
            return None

    def _fallback_components(self) -> list[FirmwareComponent]:
        """NOTE(sushy-tools 2.x, older BMCs): no FirmwareInventory; the Manager's FirmwareVersion and the
        system's BiosVersion are what there is (sushy-tools wants the system as SimpleUpdate's Targets)."""
        system = self._system_resource()
        managers = self._managers(system)[:1]
        manager = (self._get(managers[0], "manager", optional=True) or {}) if managers else {}
        found = []
        if manager.get("FirmwareVersion"):
            found.append(FirmwareComponent("bmc", "BMC", str(manager["FirmwareVersion"]), "bmc", uri=managers[0]))
        if system.get("BiosVersion"):
            uri = str(system.get("@odata.id") or "")
            found.append(FirmwareComponent("bios", "BIOS", str(system["BiosVersion"]), "bios", uri=uri))
        return found

    def update_service(self) -> UpdateService:
        return fw.update_service(self._update_resource())

    def simple_update(self, image_uri: str, targets: Sequence[str], apply_time: str = "") -> str:
        service = self.update_service()
        if not service.simple_update:
            raise Unsupported("this BMC's UpdateService has no SimpleUpdate action")
        body = {"ImageURI": image_uri, **fw.update_parameters(targets, apply_time, service)}
        return self._accepted("post", service.simple_update, "firmware update (SimpleUpdate)", body)

    def push_update(self, name: str, data: bytes, targets: Sequence[str], apply_time: str = "") -> str:
        service = self.update_service()
        if service.multipart_uri:
            parameters = json.dumps(fw.update_parameters(targets, apply_time, service))
            parts = {
                "UpdateParameters": (None, parameters, "application/json"),
                "UpdateFile": (name, data, "application/octet-stream"),
            }
            headers = {"Content-Type": "multipart/form-data"}
            return self._accepted("post", service.multipart_uri, "firmware update (multipart push)", parts, headers)
        if service.push_uri:
            return self._accepted("post", service.push_uri, "firmware update (HTTP push)", data)
        raise Unsupported("this BMC takes no pushed images (no MultipartHttpPushUri, no HttpPushUri)")

    def _accepted(self, method: str, path: str, where: str, body: Any, headers: dict[str, str] | None = None) -> str:
        reply = self._reply(method, path, where, body, headers)
        self._checked(reply, where, path)
        return fw.task_reference(reply.status, reply.getheader("location"), body_of(reply))

    def task_status(self, uri: str) -> TaskStatus:
        reply = self._reply("get", uri, "update task")
        if reply.status in fw.TASK_TRANSIENT_STATUS:
            # While the BMC applies its own image it drops sessions and forgets tasks for a while.
            raise ConnectError(f"update task {uri}: the BMC answers HTTP {reply.status} (busy or resetting)")
        self._checked(reply, "update task", uri)
        return fw.task_status(uri, reply.status, body_of(reply))

    def reset_bmc(self) -> None:
        managers = self._managers(self._system_resource())
        if not managers:
            raise Unsupported("this BMC names no manager to reset")
        target, reset_type = fw.manager_reset(self._get(managers[0], "manager") or {})
        if not target:
            raise Unsupported("this BMC's manager has no Manager.Reset action")
        # A BMC that resets at once may drop the connection before it answers.
        with suppress(ConnectError, AuthError):
            self._send("post", target, {"ResetType": reset_type} if reset_type else {}, "BMC reset")
