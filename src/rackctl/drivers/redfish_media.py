"""Redfish virtual media: the slots under the system (or its manager), InsertMedia and EjectMedia.

The flow of Dell's InsertEjectVirtualMediaREDFISH.py and Ironic's redfish boot interface: POST
InsertMedia with the image URL, eject with EjectMedia; a slot whose resource lists no actions takes
a PATCH of Image and Inserted instead.
"""

from __future__ import annotations

from typing import Any

from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers.bmcconfig import MediaSlot
from rackctl.drivers.redfish_calls import RedfishCalls
from rackctl.errors import NotFound, Unsupported


def media_slot(resource: dict[str, Any]) -> MediaSlot:
    write_protected = resource.get("WriteProtected")
    return MediaSlot(
        id=str(resource.get("Id") or str(resource.get("@odata.id", "")).rstrip("/").rsplit("/", 1)[-1]),
        name=str(resource.get("Name") or ""),
        media_types=tuple(str(t) for t in resource.get("MediaTypes") or []),
        inserted=bool(resource.get("Inserted")),
        image=str(resource.get("Image") or ""),
        write_protected=write_protected if isinstance(write_protected, bool) else None,
    )


def insert_request(resource: dict[str, Any], image_url: str) -> tuple[str, str, dict[str, Any]]:
    """(method, path, body) that inserts `image_url` read-only into this slot.

    NOTE(DMTF public-rackmount1 VirtualMedia CD1, HPE iLO 4): no InsertMedia action; the slot's Image and
    Inserted are written with PATCH. NOTE(Dell iDRAC 9, sushy-tools): the action takes Image, Inserted and
    WriteProtected.
    """
    body = {"Image": image_url, "Inserted": True, "WriteProtected": True}
    target = quirks.action_target(resource, "#VirtualMedia.InsertMedia")
    return ("post", target, body) if target else ("patch", str(resource["@odata.id"]), body)


def eject_request(resource: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    target = quirks.action_target(resource, "#VirtualMedia.EjectMedia")
    if target:
        return "post", target, {}  # NOTE(Dell iDRAC 9): EjectMedia takes an empty body
    return "patch", str(resource["@odata.id"]), {"Image": None, "Inserted": False}


class RedfishMedia(RedfishCalls):
    """VirtualMediaControl over the driver's session."""

    def _media_resources(self) -> list[dict[str, Any]]:
        """NOTE(Dell iDRAC 9 6.00+, DMTF mockup, sushy-tools 2.x): slots under the system; NOTE(iDRAC 9 up to
        5.10, HPE iLO 5): under the manager (InsertEjectVirtualMediaREDFISH.py reads both places)."""
        system = self._system_resource()
        owners = [system, *(self._get(m, "manager", optional=True) or {} for m in self._managers(system))]
        for owner in owners:
            link = quirks.link(owner, "VirtualMedia")
            if link:
                members = self._collection(link, "virtual media")
                if members:
                    return members
        raise Unsupported("this BMC offers no virtual media")

    def _slot(self, slot: str) -> dict[str, Any]:
        for resource in self._media_resources():
            if media_slot(resource).id == slot:
                return resource
        raise NotFound(f"no virtual media slot '{slot}' on this BMC")

    def media(self) -> list[MediaSlot]:
        return [media_slot(r) for r in self._media_resources()]

    def insert_media(self, slot: str, image_url: str) -> None:
        method, path, body = insert_request(self._slot(slot), image_url)
        self._send(method, path, body, "insert virtual media")

    def eject_media(self, slot: str) -> None:
        method, path, body = eject_request(self._slot(slot))
        self._send(method, path, body, "eject virtual media")
