"""Firmware inventory and updates as real BMCs serve them: the differences as data, pure functions.

Sources (each rule names its own): DMTF's public-rackmount1 mockup (Redfish-Mockup-Server), Dell's
iDRAC-Redfish-Scripting (commit e7ba763), HPE's redfishdocs (commit 676416d), fwupd's Redfish plugin
(plugins/redfish/fu-redfish-device.c, commit 0070976c), sushy-tools 2.2.0's emulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers.bmcconfig import FirmwareComponent, TaskStatus, UpdateService


@dataclass(frozen=True)
class Rule:
    """A SoftwareInventory member is of `kind` when `field` (id, name or related) matches `pattern`."""

    kind: str
    field: str
    pattern: str
    seen_on: str


# First match wins; the rules on ids and links come first because names are free text.
COMPONENT_RULES: tuple[Rule, ...] = (
    # NOTE(Dell iDRAC 9): ids are <state>-<component id>-<version>__<FQDD>; the Manager's ActiveSoftwareImage is
    # Installed-25227-5.10.00.00__iDRAC.Embedded.1-1 and the Bios' is Installed-159-1.2.4__BIOS.Setup.1-1.
    Rule("bmc", "id", r"__iDRAC\.Embedded\.", "Dell iDRAC 9"),
    Rule("bios", "id", r"__BIOS\.Setup\.", "Dell iDRAC 9"),
    Rule("cpld", "id", r"__CPLD\.", "Dell iDRAC 9"),
    Rule("nic", "id", r"__NIC\.", "Dell iDRAC 9"),
    Rule("psu", "id", r"__PSU\.", "Dell iDRAC 9"),
    # NOTE(NVIDIA HGX baseboard BMC, OpenBMC-based): members such as HGX_FW_GPU_SXM_1, HGX_FW_BMC_0.
    Rule("gpu", "id", r"^HGX_FW_GPU", "NVIDIA HGX"),
    # NOTE(DMTF public-rackmount1): FirmwareInventory/BMC relates to /redfish/v1/Managers/BMC and BIOS to the system.
    Rule("bmc", "related", r"/Managers/[^/]+/?$", "DMTF public-rackmount1, OpenBMC bmcweb"),
    Rule("bios", "related", r"/Systems/[^/]+/?$", "DMTF public-rackmount1"),
    # NOTE(HPE iLO 5/6): ids are numbers; the names say it ("iLO 5", "System ROM", "System Programmable Logic
    # Device", "Power Supply Firmware", "HPE Ethernet 1Gb 4-port 331i Adapter - NIC": ilorest serverinfo --firmware).
    Rule("bmc", "name", r"^iLO \d", "HPE iLO 5/6"),
    Rule("bios", "name", r"^System ROM$", "HPE iLO 5/6"),
    Rule("cpld", "name", r"Programmable Logic Device|\bCPLD\b", "HPE iLO 5/6"),
    Rule("psu", "name", r"Power Supply", "HPE iLO 5/6"),
    Rule("nic", "name", r"Ethernet|Adapter - NIC|Adptr|ConnectX|\bNIC\b", "HPE iLO 5/6, Dell (Mellanox ConnectX)"),
    Rule("gpu", "name", r"\bGPU\b|\bHGX\b", "NVIDIA HGX"),
    Rule("bmc", "name", r"\bBMC\b", "DMTF public-rackmount1 (Contoso BMC Firmware)"),
    Rule("bios", "name", r"\bBIOS\b", "DMTF public-rackmount1 (Contoso BIOS Firmware)"),
)

# NOTE(Dell iDRAC 9): the inventory also lists rollback images ("Previous-...", DeviceFirmwareRollback
# MultipleDevicesREDFISH.py), uploaded, not yet installed ones ("Available-...", DeviceFirmwareSimpleUpdate
# REDFISH.py), and "Current-..." beside "Installed-..." (a recorded R650: the Bios' ActiveSoftwareImage is the
# Installed- one): only Installed- runs. NOTE(HPE iLO 5): "Redundant System ROM" is the backup ROM.
NOT_RUNNING = re.compile(r"^(Previous|Available|Current)-|^Redundant ")

# Task states that end a task (Task.v1 TaskState); anything else is still going.
TASK_FAILED = frozenset({"Exception", "Killed", "Cancelled"})
# NOTE(Dell iDRAC 9): a package that applies at the next host reset ends in TaskState "UserIntervention" at
# 100 %, its message asking for a reboot (DeviceFirmwareMultipartUploadREDFISH.py); fwupd treats any other
# UserIntervention as a failure.
NEEDS_RESET_MESSAGES = frozenset({"Base.1.10.ResetRequired", "Update.1.0.AwaitToActivate"})
FAILED_MESSAGES = frozenset(
    {"Update.1.0.TransferFailed", "Update.1.0.ActivateFailed", "Update.1.0.VerificationFailed",
     "Update.1.0.ApplyFailed"}
)  # fmt: skip

# NOTE(Dell iDRAC 9 during its own update): the task answers 401 (the reset dropped the session), 404 (the task
# moved to JobService), 500 or 503 until the iDRAC is back (DeviceFirmwareMultipartUploadREDFISH.py).
TASK_TRANSIENT_STATUS = frozenset({401, 404, 500, 502, 503})


def classify(member: Mapping[str, Any]) -> str:
    """The component kind of a SoftwareInventory member."""
    values = {
        "id": str(member.get("Id") or ""),
        "name": str(member.get("Name") or ""),
        "related": " ".join(
            str(r.get("@odata.id", "")) for r in member.get("RelatedItem") or [] if isinstance(r, dict)
        ),
    }
    for rule in COMPONENT_RULES:
        subjects = values[rule.field].split() if rule.field == "related" else [values[rule.field]]
        if any(re.search(rule.pattern, subject) for subject in subjects):
            return rule.kind
    return "other"


def component(member: Mapping[str, Any]) -> FirmwareComponent | None:
    """One running firmware image, or None for rollback and staged copies."""
    ident = str(member.get("Id") or str(member.get("@odata.id", "")).rstrip("/").rsplit("/", 1)[-1])
    name = str(member.get("Name") or ident)
    if NOT_RUNNING.search(ident) or NOT_RUNNING.search(name):
        return None
    return FirmwareComponent(
        id=ident,
        name=name,
        version=str(member.get("Version") or "").strip(),
        kind=classify(member),
        updateable=bool(member.get("Updateable", True)),
        uri=str(member.get("@odata.id") or ""),
    )


def update_service(resource: Mapping[str, Any]) -> UpdateService:
    """How the BMC takes images.

    NOTE(sushy-tools 2.x): TransferProtocol@Redfish.AllowableValues sits on the action. NOTE(DMTF
    public-rackmount1): the action's target is .../Actions/SimpleUpdate, not .../UpdateService.SimpleUpdate.
    """
    action = (resource.get("Actions") or {}).get("#UpdateService.SimpleUpdate") or {}
    support = action.get("@Redfish.OperationApplyTimeSupport") or {}
    return UpdateService(
        simple_update=str(action.get("target") or ""),
        protocols=tuple(str(p) for p in action.get("TransferProtocol@Redfish.AllowableValues") or []),
        apply_times=tuple(str(t) for t in (support.get("SupportedValues") or []) if isinstance(support, dict)),
        multipart_uri=str(resource.get("MultipartHttpPushUri") or ""),
        push_uri=str(resource.get("HttpPushUri") or ""),
    )


# NOTE(Dell iDRAC 9): an update package names its own target; Dell's scripts send Targets [] (multipart) or none
# (SimpleUpdate). Its running images are the "Installed-" members.
_SELF_TARGETING = re.compile(r"^Installed-")


def targets_for(components: list[FirmwareComponent]) -> list[str]:
    """What SimpleUpdate's and the multipart push's Targets name for these components.

    NOTE(sushy-tools 2.x): Targets is required and must name the system (its BIOS's component); NOTE(DMTF
    public-rackmount1, OpenBMC bmcweb): the SoftwareInventory members.
    """
    if any(_SELF_TARGETING.search(c.id) for c in components):
        return []
    return [c.uri for c in components if c.uri]


def update_parameters(targets: Sequence[str], apply_time: str, service: UpdateService) -> dict[str, Any]:
    """Targets and, where the BMC takes it, @Redfish.OperationApplyTime.

    NOTE(Dell iDRAC 9): SimpleUpdate lists OperationApplyTimeSupport (Immediate, OnReset, OnStartUpdateRequest);
    "OnReset" keeps it from rebooting the host by itself, so the reboot can wait for rackctl's power sequencing.
    """
    parameters: dict[str, Any] = {"Targets": list(targets)} if targets else {}
    if apply_time and apply_time in service.apply_times:
        parameters["@Redfish.OperationApplyTime"] = apply_time
    return parameters


def task_reference(status: int, location: str | None, body: Any) -> str:
    """Where to follow an update the BMC accepted: the Location header, else a Task in the body.

    NOTE(sushy-tools 2.x): SimpleUpdate answers 204 with a Location; NOTE(OpenBMC bmcweb): 202 with the Task as
    the body; the Redfish specification: 202 with a task monitor in Location.
    """
    if location:
        return location
    if isinstance(body, dict) and "Task" in str(body.get("@odata.type", "")) and body.get("@odata.id"):
        return str(body["@odata.id"])
    return ""


def _message_ids(task: Mapping[str, Any]) -> list[str]:
    return [str(m.get("MessageId") or "") for m in task.get("Messages") or [] if isinstance(m, dict)]


def _message_texts(task: Mapping[str, Any]) -> tuple[str, ...]:
    messages = [m for m in task.get("Messages") or [] if isinstance(m, dict)]
    return tuple(str(m["Message"]) for m in messages if m.get("Message"))


def _known(found: str, known: frozenset[str]) -> bool:
    """A message id compared without its registry version (Update.1.0.X and Update.1.1.X are one message)."""
    prefix, name = found.split(".")[0], found.rsplit(".", 1)[-1]
    return any(k.split(".")[0] == prefix and k.rsplit(".", 1)[-1] == name for k in known)


def task_status(uri: str, status: int, body: Any) -> TaskStatus:
    """A task as read from its monitor or Task resource.

    A task monitor answers 202 while the task runs and, once it ended, the operation's own reply (no
    TaskState): that counts as done and well.
    """
    task = body if isinstance(body, dict) else {}
    state = str(task.get("TaskState") or ("Running" if status == 202 else "Completed"))
    percent = task.get("PercentComplete")
    percent = int(percent) if isinstance(percent, int | float) else None
    ids, texts = _message_ids(task), _message_texts(task)
    needs_reset = any(_known(i, NEEDS_RESET_MESSAGES) for i in ids)
    failed = state in TASK_FAILED or any(_known(i, FAILED_MESSAGES) for i in ids)
    if state == "UserIntervention":
        needs_reset = percent == 100 and any("reboot" in t.lower() or "reset" in t.lower() for t in texts)
        failed = not needs_reset
    done = state in TASK_FAILED or state in ("Completed", "UserIntervention")
    return TaskStatus(uri, state, str(task.get("TaskStatus") or ""), percent, texts, done, done and not failed,
                      needs_reset)  # fmt: skip


def manager_reset(manager: Mapping[str, Any]) -> tuple[str, str]:
    """The Manager.Reset target and the reset type to send (GracefulRestart when offered)."""
    action = (manager.get("Actions") or {}).get("#Manager.Reset") or {}
    allowed = [str(v) for v in action.get("ResetType@Redfish.AllowableValues") or []]
    choice = next(
        (t for t in ("GracefulRestart", "ForceRestart") if not allowed or t in allowed), allowed[0] if allowed else ""
    )
    return str(action.get("target") or ""), choice


def inventory_link(service: Mapping[str, Any]) -> str | None:
    return quirks.link(dict(service), "FirmwareInventory")
