"""redfish_quirks on recorded resources: DMTF's public-rackmount1 and the vendor variants derived from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rackctl.drivers import redfish_quirks as quirks
from rackctl.errors import Unsupported
from rackctl.lab.redfish_mockup import Mockup
from rackctl.types import BootDevice, Health, PowerAction, PowerState

DATA = Path(__file__).resolve().parent.parent / "data" / "redfish"
SYSTEM = "/redfish/v1/Systems/437XR1138R2"


def recorded(path: str, variant: str = "public-rackmount1") -> dict[str, Any]:
    resource = Mockup.load(DATA / variant).resource(path)
    assert resource is not None, f"{variant} has no {path}"
    return resource


def allowed_resets(variant: str) -> list[str]:
    return quirks.reset_action(recorded(SYSTEM, variant))[1]


@pytest.mark.parametrize(
    ("variant", "action", "expected"),
    [
        ("public-rackmount1", PowerAction.ON, "On"),
        ("public-rackmount1", PowerAction.OFF, "ForceOff"),
        ("public-rackmount1", PowerAction.SOFT, "GracefulShutdown"),
        ("public-rackmount1", PowerAction.CYCLE, "ForceRestart"),  # no PowerCycle in its AllowableValues
        ("public-rackmount1", PowerAction.RESET, "ForceRestart"),
        ("openbmc", PowerAction.CYCLE, "PowerCycle"),
        ("openbmc", PowerAction.SOFT, "GracefulShutdown"),
        ("hpe-ilo", PowerAction.SOFT, "PushPowerButton"),
        ("hpe-ilo", PowerAction.CYCLE, "ForceRestart"),
        ("hpe-ilo", PowerAction.ON, "On"),
    ],
)
def test_reset_type_comes_from_the_recorded_allowable_values(variant, action, expected):
    assert quirks.choose_reset_type(action, allowed_resets(variant)) == expected


def test_reset_action_reads_target_and_allowed_values():
    target, allowed = quirks.reset_action(recorded(SYSTEM))
    assert target == f"{SYSTEM}/Actions/ComputerSystem.Reset"
    assert "PowerCycle" not in allowed and "ForceRestart" in allowed
    assert quirks.reset_action(recorded(SYSTEM, "hpe-ilo"))[0].endswith("ComputerSystem.Reset/")


def test_no_allowed_reset_type_for_an_action_is_unsupported():
    with pytest.raises(Unsupported, match="none of them does 'soft'"):
        quirks.choose_reset_type(PowerAction.SOFT, ["On", "ForceOff"])


def test_no_allowable_values_means_the_first_preference():
    assert quirks.choose_reset_type(PowerAction.CYCLE, []) == "PowerCycle"


def test_no_reset_action_is_unsupported():
    with pytest.raises(Unsupported, match=r"no ComputerSystem\.Reset"):
        quirks.reset_action({"Actions": {}})


def test_power_state_and_boot_setting_of_the_recorded_system():
    system = recorded(SYSTEM)
    assert quirks.power_state(system["PowerState"]) == PowerState.ON
    assert quirks.power_state("Paused") == PowerState.UNKNOWN
    setting = quirks.boot_setting(system["Boot"])
    assert (setting.device, setting.persistent, setting.uefi) == (BootDevice.PXE, False, True)
    disabled = {"BootSourceOverrideEnabled": "Disabled", "BootSourceOverrideTarget": "Pxe"}
    assert quirks.boot_setting(disabled).device is None


def test_boot_override_body():
    assert quirks.boot_override(BootDevice.DISK, persistent=True, uefi=False) == {
        "BootSourceOverrideTarget": "Hdd",
        "BootSourceOverrideEnabled": "Continuous",
        "BootSourceOverrideMode": "Legacy",
    }


@pytest.mark.parametrize(
    ("variant", "body"),
    [("public-rackmount1", {"IndicatorLED": "Blinking"}), ("openbmc", {"LocationIndicatorActive": True})],
)
def test_identify_body_follows_what_the_system_offers(variant, body):
    assert quirks.identify_body(recorded(SYSTEM, variant), on=True) == body


def test_thermal_readings_from_the_recorded_thermal_resource():
    readings = {r.name: r for r in quirks.thermal_readings(recorded("/redfish/v1/Chassis/1U/Thermal"))}
    assert [r.kind for r in readings.values()] == ["temperature"] * 3 + ["fan"] * 2
    assert (readings["Chassis Intake Temp"].value, readings["Chassis Intake Temp"].health) == (25.0, Health.OK)
    assert (readings["CPU2 Temp"].value, readings["CPU2 Temp"].health) == (None, Health.UNKNOWN)  # disabled
    assert (readings["BaseBoard System Fan Backup"].value, readings["BaseBoard System Fan Backup"].unit) == (
        2050.0,
        "RPM",
    )


def test_power_readings_from_the_recorded_power_resource():
    readings = {r.name: r for r in quirks.power_readings(recorded("/redfish/v1/Chassis/1U/Power"))}
    assert set(readings) == {
        "Power Supply Bay",
        "Power Supply Bay Power Out",
        "VRM1 Voltage",
        "VRM2 Voltage",
        "System Input Power",
    }
    psu = readings["Power Supply Bay"]
    assert (psu.kind, psu.health, psu.state, psu.value) == ("psu", Health.WARNING, "Enabled", None)
    assert (readings["Power Supply Bay Power Out"].kind, readings["Power Supply Bay Power Out"].value) == ("other", 325)
    assert (readings["VRM2 Voltage"].kind, readings["VRM2 Voltage"].value, readings["VRM2 Voltage"].unit) == (
        "voltage",
        5.0,
        "V",
    )
    assert (readings["System Input Power"].kind, readings["System Input Power"].value) == ("power", 344.0)


def test_chassis_total_is_not_power_when_psus_report_their_input():
    power = recorded("/redfish/v1/Chassis/1U/Power")
    power["PowerSupplies"][0]["PowerInputWatts"] = 352
    kinds = {r.name: r.kind for r in quirks.power_readings(power)}
    assert kinds["Power Supply Bay Power In"] == "power"
    assert kinds["System Input Power"] == "other"  # else a watt would be counted twice
    assert "Power Supply Bay Power Out" not in kinds


def test_log_entries_from_the_recorded_collections():
    system_log = recorded(f"{SYSTEM}/LogServices/Log1/Entries")["Members"]
    entry = quirks.log_entry(system_log[0])
    assert (entry.id, entry.timestamp, entry.severity, entry.sensor) == (
        "1",
        "2012-03-07T14:44:00Z",
        Health.CRITICAL,
        "Temperature",
    )
    manager_entry = quirks.log_entry(recorded("/redfish/v1/Managers/BMC/LogServices/Log/Entries/1"))
    assert (manager_entry.message, manager_entry.sensor) == ("System May be Melting", "")


def test_next_page_in_both_spellings():
    assert quirks.next_page(recorded(f"{SYSTEM}/LogServices/Log1/Entries")).endswith("Entries?$skiptoken=2")
    paged = recorded(f"{SYSTEM}/LogServices/Log1/Entries", "paged-log")
    assert quirks.next_page(paged) == f"{SYSTEM}/LogServices/Log1/Entries?$skip=2"
    assert quirks.next_page(recorded("/redfish/v1/Systems")) is None


def test_expanded_entries_are_not_references():
    members = recorded(f"{SYSTEM}/LogServices/Log1/Entries")["Members"]
    assert not quirks.is_reference(members[0])
    assert quirks.is_reference({"@odata.id": f"{SYSTEM}/LogServices/Log1/Entries/1"})
    page = Mockup.load(DATA / "paged-log").page(f"{SYSTEM}/LogServices/Log1/Entries", "$skip=2")
    assert page is not None
    assert quirks.is_reference(json.loads(page.read_text())["Members"][0])  # @odata.id, @odata.type, Id


def test_member_paths_and_links_as_served():
    assert quirks.member_paths(recorded("/redfish/v1/Systems", "hpe-ilo")) == [f"{SYSTEM}/"]
    system = recorded(SYSTEM)
    assert quirks.links(system, "Chassis") == ["/redfish/v1/Chassis/1U"]
    assert quirks.links(system, "ManagedBy") == ["/redfish/v1/Managers/BMC"]
    assert quirks.link(system, "ethernetinterfaces") == f"{SYSTEM}/EthernetInterfaces"
    assert quirks.link(system, "Nothing") is None
    assert quirks.action_target(recorded(f"{SYSTEM}/LogServices/Log1"), "#LogService.ClearLog").endswith("ClearLog")


@pytest.mark.parametrize(
    ("variant", "nic", "mac"),
    [
        ("public-rackmount1", "12446A3B0411", "12:44:6A:3B:04:11"),
        ("public-rackmount1", "12446A3B8890", "AA:BB:CC:DD:EE:00"),  # the configured MAC, not the permanent one
        ("public-rackmount1", "VLAN1", None),  # virtual: repeats NIC 1's MAC
        ("public-rackmount1", "ToManager", None),  # the BMC's host interface
        ("hpe-ilo", "12446A3B0411", "12:44:6A:3B:04:11"),  # spelled MacAddress
    ],
)
def test_nic_mac(variant, nic, mac):
    assert quirks.nic_mac(recorded(f"{SYSTEM}/EthernetInterfaces/{nic}", variant)) == mac


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Contoso", "Contoso"),
        ("  437XR1138R2 ", "437XR1138R2"),
        ("          ", ""),
        ("To be filled by O.E.M.", ""),
        ("Default string", ""),
        ("0123456789", ""),
        (None, ""),
    ],
)
def test_identity_drops_blanks_and_smbios_filler(value, expected):
    assert quirks.identity(value) == expected


def test_blank_identity_variant_is_blank_where_the_note_says():
    system = recorded(SYSTEM, "blank-identity")
    assert [quirks.identity(system[k]) for k in ("Manufacturer", "SerialNumber", "SKU", "Model")] == [
        "",
        "",
        "",
        "Super Server",
    ]


def test_health_of_statuses():
    assert quirks.health({"State": "Enabled", "Health": "Critical"}) == Health.CRITICAL
    assert quirks.health({"State": "Absent", "Health": "OK"}) == Health.UNKNOWN
    assert quirks.health(None) == Health.UNKNOWN
