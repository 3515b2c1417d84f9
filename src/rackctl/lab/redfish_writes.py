"""The writes a mockup BMC carries out, so BMC-side configuration meets a stateful peer over real HTTP.

- UpdateService: SimpleUpdate fetches ImageURI over HTTP like a BMC does; a multipart POST to
  MultipartHttpPushUri (`UpdateParameters` + `UpdateFile`) or a raw POST to HttpPushUri hands the image
  over. Either way a Task is created (202, Location), runs for `task_polls` reads and ends Completed
  (or Exception with Update.1.0.ApplyFailed when `fail_tasks` is set), and the component then reports
  its new version: a BMC image at once (the BMC then resets: away for `reset_s` seconds, or for good
  when `reset_s` is None), a BIOS image at the next ComputerSystem.Reset.
- The image format is the lab's stand-in for a vendor package header: a JSON object
  {"component": "<FirmwareInventory Id>", "version": "..."} followed by any padding. Anything else
  fails verification (Update.1.0.VerificationFailed), as a BMC refuses a package it cannot parse.
- A PATCH of an account's Password changes the password the server accepts for that user (unless
  `ignore_passwords` is set: a BMC that answers 204 and keeps the old one).
- A PATCH of the Bios settings object stages attributes (400 PropertyUnknown for a name the served
  registry does not know); ComputerSystem.Reset applies them.
- VirtualMedia: InsertMedia/EjectMedia actions, or a PATCH of Image/Inserted on a slot without them.
"""

from __future__ import annotations

import copy
import json
import threading
import urllib.request
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rackctl.lab.redfish_mockup import Answer, MockupServer

TASKS = "/redfish/v1/TaskService/Tasks"


def refusal(message: str, message_id: str) -> Answer:
    """A 400 with a Redfish error body, as a BMC refuses a request."""
    from rackctl.lab.redfish_mockup import redfish_error

    return 400, redfish_error(message, message_id), {}


def parse_image(data: bytes) -> dict[str, str] | None:
    """The lab image header, or None when the bytes are not a lab image."""
    try:
        header = json.JSONDecoder().raw_decode(data.decode("utf-8", errors="replace").lstrip())[0]
    except ValueError:
        return None
    ok = isinstance(header, dict) and isinstance(header.get("component"), str) and header.get("version")
    return {"component": header["component"], "version": str(header["version"])} if ok else None


def multipart_parts(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by their form name."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = part.get_payload(decode=True) or b""
    return parts


class Writes:
    """The state writes leave behind: resources overlaid on the recorded files, tasks, staged changes."""

    def __init__(self, server: MockupServer) -> None:
        self.server = server
        self.overlay: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.on_reset: list[tuple[str, str]] = []  # (component, version) applied at the next system reset
        self.task_polls = 1
        self.fail_tasks = False
        self.reset_s: float | None = 0.0  # how long the BMC is away after its own update; None: for good
        self.ignore_passwords = False
        self.fetched: list[str] = []
        self._lock = threading.RLock()

    # --- resources ------------------------------------------------------------------------------------

    def resource(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            if path in self.overlay:
                return copy.deepcopy(self.overlay[path])
            if path in self.tasks:
                return self._task_read(path)
        return self.server.mockup.resource(path)

    def _edit(self, path: str) -> dict[str, Any]:
        """The resource at `path`, made writable in the overlay."""
        if path not in self.overlay:
            self.overlay[path] = copy.deepcopy(self.server.mockup.resource(path) or {})
        return self.overlay[path]

    # --- dispatch -------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, body: Any, content_type: str) -> Answer | None:
        """The reply to a write this module handles, or None to leave it to the plain mockup."""
        with self._lock:
            service = self.server.mockup.resource("/redfish/v1/UpdateService") or {}
            action = ((service.get("Actions") or {}).get("#UpdateService.SimpleUpdate") or {}).get("target")
            if method == "POST" and path == action:
                return self._simple_update(body)
            if method == "POST" and path in (service.get("MultipartHttpPushUri"), service.get("HttpPushUri")):
                return self._pushed(body, content_type, multipart=path == service.get("MultipartHttpPushUri"))
            return self._other(method, path, body)

    def _other(self, method: str, path: str, body: Any) -> Answer | None:
        if method == "PATCH" and path.startswith("/redfish/v1/AccountService/Accounts/"):
            return self._account(path, body)
        if method == "PATCH" and path.endswith("/Bios/Settings"):
            return self._bios_settings(path, body)
        if method == "PATCH" and path.endswith("/SecureBoot"):
            return self._patch(path, body, ("SecureBootEnable",))
        if "/VirtualMedia/" in path:
            return self._media(method, path, body)
        if method == "POST" and path.endswith("/Actions/ComputerSystem.Reset"):
            self._system_reset(path.rsplit("/Actions/", 1)[0])
            return None
        if method == "POST" and path.endswith("/Actions/Manager.Reset"):
            self.server.outage(self.reset_s)
            return 204, b"", {}
        return None

    # --- firmware -------------------------------------------------------------------------------------

    def _simple_update(self, body: Any) -> Answer:
        uri = body.get("ImageURI") if isinstance(body, dict) else None
        if not uri:
            return refusal("ImageURI is required", "Base.1.0.ActionParameterMissing")
        self.fetched.append(str(uri))
        try:
            with urllib.request.urlopen(str(uri), timeout=10) as reply:
                data = reply.read()
        except OSError as exc:
            return self._start_task(None, f"Update.1.0.TransferFailed: {exc}")
        return self._start_task(data, "")

    def _pushed(self, body: Any, content_type: str, multipart: bool) -> Answer:
        raw = body if isinstance(body, bytes) else str(body or "").encode()
        data = multipart_parts(content_type, raw).get("UpdateFile") if multipart else raw
        if multipart and data is None:
            return refusal("UpdateFile part is required", "Base.1.0.ActionParameterMissing")
        return self._start_task(data, "")

    def _start_task(self, data: bytes | None, transfer_error: str) -> Answer:
        number = str(len(self.tasks) + 1000)
        uri = f"{TASKS}/{number}"
        header = parse_image(data) if data is not None else None
        problem = transfer_error or ("" if header else "Update.1.0.VerificationFailed: not an image this BMC knows")
        self.tasks[uri] = {"Id": number, "image": header, "problem": problem}
        self.polls[uri] = 0
        task = self._task_read(uri, count=False)
        return 202, json.dumps(task).encode(), {"Location": uri}

    def _task_read(self, uri: str, count: bool = True) -> dict[str, Any]:
        record = self.tasks[uri]
        if count:
            self.polls[uri] += 1
        state, messages = "Running", []
        if self.polls[uri] >= self.task_polls:
            state, messages = self._finish(uri, record)
        return {
            "@odata.type": "#Task.v1_7_0.Task",
            "@odata.id": uri,
            "Id": record["Id"],
            "Name": f"Task {record['Id']}",
            "TaskState": state,
            "TaskStatus": "OK" if state == "Completed" else "Critical" if state == "Exception" else "OK",
            "PercentComplete": 100 if state != "Running" else 50,
            "Messages": messages,
        }

    def _finish(self, uri: str, record: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
        problem = record["problem"] or ("Update.1.0.ApplyFailed: injected failure" if self.fail_tasks else "")
        if problem:
            message_id, _, text = problem.partition(": ")
            return "Exception", [{"MessageId": message_id, "Message": text}]
        if not record.get("applied"):
            record["applied"] = True
            self._apply(record["image"])
        return "Completed", [{"MessageId": "Update.1.0.UpdateSuccessful", "Message": "The update completed."}]

    def _apply(self, image: dict[str, str]) -> None:
        member = f"/redfish/v1/UpdateService/FirmwareInventory/{image['component']}"
        related = [r.get("@odata.id", "") for r in (self.resource(member) or {}).get("RelatedItem") or []]
        if any("/Systems/" in r for r in related):
            self.on_reset.append((image["component"], image["version"]))
            return
        self._set_version(member, related, image["version"])
        if any("/Managers/" in r for r in related):
            self.server.outage(self.reset_s)

    def _set_version(self, member: str, related: list[str], version: str) -> None:
        self._edit(member)["Version"] = version
        for path in related:
            key = "BiosVersion" if "/Systems/" in path else "FirmwareVersion"
            self._edit(path)[key] = version

    def _system_reset(self, system: str) -> None:
        for component, version in self.on_reset:
            member = f"/redfish/v1/UpdateService/FirmwareInventory/{component}"
            related = [r.get("@odata.id", "") for r in (self.resource(member) or {}).get("RelatedItem") or []]
            self._set_version(member, related, version)
        self.on_reset.clear()
        bios = str(((self.resource(system) or {}).get("Bios") or {}).get("@odata.id") or "")
        staged = (self.resource(f"{bios}/Settings") or {}).get("Attributes") if bios else None
        if staged:
            self._edit(bios).setdefault("Attributes", {}).update(staged)

    # --- accounts, BIOS, media -----------------------------------------------------------------------

    def _account(self, path: str, body: Any) -> Answer | None:
        account = self.resource(path)
        if account is None or not isinstance(body, dict):
            return None
        if set(body) - {"Password", "Enabled", "RoleId", "Locked"}:
            return refusal(f"cannot change {sorted(set(body))}", "Base.1.0.PropertyNotWritable")
        if "Password" in body and not self.ignore_passwords and account.get("UserName") == self.server.username:
            self.server.password = str(body["Password"])
        self._edit(path).update({k: v for k, v in body.items() if k != "Password"})
        return 204, b"", {}

    def _bios_settings(self, path: str, body: Any) -> Answer:
        attributes = body.get("Attributes") if isinstance(body, dict) else None
        if not isinstance(attributes, dict):
            return refusal("Attributes is required", "Base.1.0.PropertyMissing")
        known = self.registry_names(path.rsplit("/Settings", 1)[0])
        unknown = sorted(set(attributes) - known) if known else []
        if unknown:
            return refusal(f"The property {unknown[0]} is not in the list of valid properties.",
                                       "Base.1.0.PropertyUnknown")  # fmt: skip
        self._edit(path).setdefault("Attributes", {}).update(attributes)
        return 204, b"", {}

    def registry_names(self, bios_path: str) -> set[str]:
        """Attribute names of the registry the Bios resource names, when this mockup serves it."""
        mockup = self.server.mockup
        name = (self.resource(bios_path) or {}).get("AttributeRegistry")
        for member in (mockup.resource("/redfish/v1/Registries") or {}).get("Members") or []:
            file = mockup.resource(str(member.get("@odata.id", ""))) or {}
            for location in file.get("Location") or []:
                registry = mockup.resource(str(location.get("Uri", ""))) or {}
                if registry.get("Id") == name:
                    return {a["AttributeName"] for a in registry.get("RegistryEntries", {}).get("Attributes", [])}
        return set()

    def _patch(self, path: str, body: Any, writable: tuple[str, ...]) -> Answer:
        if not isinstance(body, dict) or set(body) - set(writable):
            return refusal(f"only {', '.join(writable)} can be changed", "Base.1.0.PropertyNotWritable")
        self._edit(path).update(body)
        return 204, b"", {}

    def _media(self, method: str, path: str, body: Any) -> Answer | None:
        slot = path.rsplit("/Actions/", 1)[0]
        if method == "POST" and path.endswith("VirtualMedia.InsertMedia"):
            self._edit(slot).update({"Image": (body or {}).get("Image"), "Inserted": True})
        elif method == "POST" and path.endswith("VirtualMedia.EjectMedia"):
            self._edit(slot).update({"Image": None, "Inserted": False})
        elif method == "PATCH" and isinstance(body, dict):
            return self._patch(path, body, ("Image", "Inserted", "WriteProtected"))
        else:
            return None
        return 204, b"", {}
