"""Vendor differences of BMC-side configuration, replayed from recordings of real BMCs and from what other
projects assert for the same input (tests/data/redfish/recorded/PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rackctl.drivers import redfish_bios_quirks as bq
from rackctl.drivers import redfish_update_quirks as fw
from rackctl.drivers.bmcconfig import BiosState, FirmwareComponent
from rackctl.services.bmc import bios_intents
from rackctl.services.bmc.baseline import Wanted, plan_node
from rackctl.services.bmc.bios import BiosRead, diff

RECORDED = Path(__file__).resolve().parent.parent / "data" / "redfish" / "recorded"
DELL = RECORDED / "dell-r650-idrac9"


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_dell_update_service_offers_multipart_and_apply_times():
    service = fw.update_service(_json(DELL / "UpdateService.json"))
    assert service.simple_update == "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
    assert service.multipart_uri == "/redfish/v1/UpdateService/MultipartUpload"
    assert service.apply_times == ("Immediate", "OnReset", "OnStartUpdateRequest")
    assert fw.update_parameters([], "OnReset", service) == {"@Redfish.OperationApplyTime": "OnReset"}
    assert fw.update_parameters(["/x"], "OnReset", fw.update_service({})) == {"Targets": ["/x"]}


def test_dell_inventory_counts_only_installed_images():
    members = _json(DELL / "FirmwareInventory-members.json")["Members"]
    found = [fw.component({"@odata.id": m["@odata.id"], "Id": m["@odata.id"].rsplit("/", 1)[-1]}) for m in members]
    running = [c for c in found if c is not None]
    assert [(c.id, c.kind) for c in running] == [
        ("Installed-159-1.2.4__BIOS.Setup.1-1", "bios"),
        ("Installed-25227-5.10.00.00__iDRAC.Embedded.1-1", "bmc"),
    ]
    # Dell's packages name their own target: no Targets for its members
    assert fw.targets_for(running) == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [  # ilorest serverinfo --firmware on an iLO 5 (HPE's documentation)
        ("iLO 5", "bmc"),
        ("System ROM", "bios"),
        ("Redundant System ROM", None),
        ("System Programmable Logic Device", "cpld"),
        ("Power Supply Firmware", "psu"),
        ("HPE Eth 10/25Gb 2p 621SFP28 Adptr", "nic"),
        ("HPE Ethernet 1Gb 4-port 331i Adapter - NIC", "nic"),
        ("Embedded Video Controller", "other"),
    ],
)
def test_hpe_components_are_classified_by_name(name, kind):
    found = fw.component({"Id": "7", "Name": name, "Version": "1"})
    assert (found.kind if found else None) == kind


def test_hpe_recorded_members():
    members = json.loads((RECORDED / "hpe-ilo5" / "FirmwareInventory-members.json").read_text())
    assert {m["Id"]: fw.component(m).kind for m in members} == {"15": "other", "13": "nic"}


# fwupd's Redfish plugin test service (plugins/redfish/tests/redfish.py, task 545) and fu-redfish-device.c:
# Completed with Base.1.10.ResetRequired needs a reboot; Exception with Update.1.0.ApplyFailed fails.
@pytest.mark.parametrize(
    ("status", "body", "done", "ok", "reboot"),
    [
        (200, {"TaskState": "Running", "PercentComplete": 25,
               "Messages": [{"MessageId": "Update.1.1.TransferringToComponent", "Message": "Applying image"}]},
         False, False, False),
        (200, {"TaskState": "Completed", "TaskStatus": "OK", "PercentComplete": 100,
               "Messages": [{"MessageId": "Update.1.1.TransferringToComponent", "Message": "Applying image"},
                            {"MessageId": "Base.1.10.ResetRequired", "Message": "A reset is required"},
                            {"MessageId": "TaskEvent.1.0.TaskCompletedOK", "Message": "Task completed OK"}]},
         True, True, True),
        (200, {"TaskState": "Exception", "TaskStatus": "Warning",
               "Messages": [{"MessageId": "Update.1.0.ApplyFailed", "Message": "Error verifying image"}]},
         True, False, False),
        # Dell's multipart script: UserIntervention at 100 % whose message asks for a reboot
        (200, {"TaskState": "UserIntervention", "PercentComplete": 100,
               "Messages": [{"Message": "Package successfully downloaded. The update will be applied on reboot"}]},
         True, True, True),
        (200, {"TaskState": "UserIntervention", "PercentComplete": 40, "Messages": [{"Message": "Insert media"}]},
         True, False, False),
        (202, None, False, False, False),  # a task monitor still working
        (204, None, True, True, False),  # a task monitor that returned the operation's own empty reply
    ],
)  # fmt: skip
def test_task_states(status, body, done, ok, reboot):
    task = fw.task_status("/t", status, body)
    assert (task.done, task.ok, task.needs_reboot) == (done, ok, reboot)


def test_task_reference_prefers_location_then_a_task_body():
    assert fw.task_reference(204, "/redfish/v1/TaskService/Tasks/42", None) == "/redfish/v1/TaskService/Tasks/42"
    body = {"@odata.type": "#Task.v1_4_3.Task", "@odata.id": "/redfish/v1/TaskService/Tasks/0"}
    assert fw.task_reference(202, None, body) == "/redfish/v1/TaskService/Tasks/0"
    assert fw.task_reference(200, None, {"@odata.type": "#Message"}) == ""


def test_dell_registry_file_is_found_by_the_loaded_registrys_id():
    bios = _json(DELL / "Bios.json")
    file = _json(DELL / "Registry-BiosAttributeRegistry.v1_0_0.json")
    base = {"Id": "BaseMessages", "Registry": "Base.1.8"}
    # neither the file's Id nor its Registry is the name the Bios gives: it is still a candidate
    assert bq.registry_candidates([base, file], bios["AttributeRegistry"]) == [file]
    assert bq.registry_uri(file) == "/redfish/v1/Systems/System.Embedded.1/Bios/BiosRegistry"
    assert bq.apply_times(bios) == ("OnReset", "AtMaintenanceWindowStart", "InMaintenanceWindowOnReset")
    assert bq.settings_body({"SriovGlobalEnable": "Enabled"}, bq.apply_times(bios)) == {
        "Attributes": {"SriovGlobalEnable": "Enabled"},
        "@Redfish.SettingsApplyTime": {"ApplyTime": "OnReset"},
    }
    assert bq.pending(bios["Attributes"], _json(DELL / "Bios-Settings.json")["Attributes"]) == {}


def test_gpu_server_intents_on_the_recorded_dell():
    bios = _json(DELL / "Bios.json")
    state = BiosState(bios["Attributes"], {}, bios["AttributeRegistry"], "Dell Inc.", bq.apply_times(bios))
    profile = {"sriov": True, "above_4g": "on", "iommu": "on", "boot_mode": "uefi", "power_profile": "performance"}
    found = diff(profile, BiosRead(state))
    assert found.vendor == "dell" and found.problems == []
    assert {r.attribute: (r.current, r.wanted, r.status) for r in found.rows} == {
        "SriovGlobalEnable": ("Disabled", "Enabled", "differs"),
        "MmioAbove4Gb": ("Enabled", "Enabled", "ok"),
        "ProcVirtualization": ("Enabled", "Enabled", "ok"),
        "BootMode": ("Uefi", "Uefi", "ok"),
        "SysProfile": ("PerfOptimized", "PerfOptimized", "ok"),
    }
    assert found.changes == {"SriovGlobalEnable": "Enabled"}
    acs = diff({"acs": False}, BiosRead(state))
    assert acs.problems == ["acs: no known dell attribute; name it under bios.attributes"]


def test_hpe_intents_pick_the_attribute_the_bmc_has_and_what_needs_custom():
    attributes = {"ProcAmdIoVt": "Disabled", "Sriov": "Disabled", "WorkloadProfile": "GeneralPowerEfficientCompute",
                  "PowerRegulator": "DynamicPowerSavings", "BootMode": "Uefi"}  # fmt: skip
    state = BiosState(attributes, {}, "BiosAttributeRegistryA55.v1_2_28", "HPE", ())
    found = diff({"iommu": "on", "above_4g": "on", "power_profile": "performance"}, BiosRead(state))
    assert found.problems == []  # above_4g: HPE has no such setting, BARs above 4 GB always
    assert found.changes == {"ProcAmdIoVt": "Enabled", "WorkloadProfile": "Custom", "PowerRegulator": "StaticHighPerf"}


def test_every_intent_mapping_names_its_evidence():
    for vendor, intents in bios_intents.VENDORS.items():
        for intent, choices in intents.items():
            assert intent in bios_intents.INTENTS, (vendor, intent)
            assert all(choice.seen_in for choice in choices), (vendor, intent)


def test_a_baseline_with_match_covers_every_gpu_and_finds_the_one_behind():
    gpus = [FirmwareComponent(f"HGX_FW_GPU_SXM_{i}", f"GPU {i}", "1.4.30" if i != 5 else "1.4.10", "gpu")
            for i in range(1, 9)]  # fmt: skip
    node = plan_node("n", {"gpu": Wanted("gpu", "1.4.30", match=r"HGX_FW_GPU_SXM_\d+")}, gpus)
    (step,) = node.steps
    assert [c.id for c in step.components] == ["HGX_FW_GPU_SXM_5"] and step.reboot
