"""The Redfish driver against recorded services (DMTF's public-rackmount1 and vendor variants of it),
served over real HTTP so that DMTF's redfish library does the talking."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rackctl
from rackctl.drivers.redfish import RedfishBmc
from rackctl.errors import AuthError, CommandError, ConnectError, Unsupported
from rackctl.services.oob import sensor_summary
from rackctl.types import BootDevice, Health, PowerAction, PowerState

SYSTEM = "/redfish/v1/Systems/437XR1138R2"
RESET = f"{SYSTEM}/Actions/ComputerSystem.Reset"
SESSIONS = "/redfish/v1/SessionService/Sessions"


def run(endpoint, operation):
    with RedfishBmc(endpoint) as bmc:
        return operation(bmc)


def assert_one_session_closed(server):
    """One session created, deleted at the end, and every request in between used its token."""
    assert server.sessions_created == 1
    assert server.sessions == {}
    assert len(server.made("DELETE")) == 1
    assert server.requests[-1].method == "DELETE"
    authenticated = [r for r in server.requests if r.method != "POST" or r.path != SESSIONS]
    assert {r.auth for r in authenticated if r.path != "/redfish/v1/"} == {"token"}


# --- power -------------------------------------------------------------------------------------------


def test_power_state_uses_one_session_and_logs_it_out(mockup, endpoint_for):
    server = mockup()
    assert run(endpoint_for(server), lambda bmc: bmc.power_state()) == PowerState.ON
    assert_one_session_closed(server)


@pytest.mark.parametrize(
    ("variant", "action", "reset_type"),
    [  # tests/unit/test_redfish_quirks.py covers every action; these go over the wire
        ("public-rackmount1", PowerAction.CYCLE, "ForceRestart"),  # no PowerCycle in its AllowableValues
        ("openbmc", PowerAction.CYCLE, "PowerCycle"),
        ("hpe-ilo", PowerAction.SOFT, "PushPowerButton"),
    ],
)
def test_set_power_picks_the_reset_type_the_bmc_allows(mockup, endpoint_for, variant, action, reset_type):
    server = mockup(variant)
    run(endpoint_for(server), lambda bmc: bmc.set_power(action))
    posts = server.made("POST", RESET)
    assert [p.body for p in posts] == [{"ResetType": reset_type}]  # exactly one, accepted (204) by the BMC
    assert_one_session_closed(server)


def test_a_refused_reset_is_a_command_error_and_is_not_retried(mockup, endpoint_for):
    server = mockup()
    server.fail(RESET, 500)
    with pytest.raises(CommandError, match=r"power cycle \(ForceRestart\): HTTP 500"):
        run(endpoint_for(server), lambda bmc: bmc.set_power(PowerAction.CYCLE))
    assert len(server.made("POST", RESET)) == 1
    assert_one_session_closed(server)


def test_trailing_slash_members_and_targets_work_and_match_the_system_id(mockup, endpoint_for):
    server = mockup("hpe-ilo")
    endpoint = endpoint_for(server, system_id="437XR1138R2")
    assert run(endpoint, lambda bmc: bmc.power_state()) == PowerState.ON
    run(endpoint, lambda bmc: bmc.set_power(PowerAction.OFF))
    assert server.made("POST")[-1].path == RESET + "/"


def test_an_unknown_system_id_is_a_clear_error(mockup, endpoint_for):
    server = mockup()
    with pytest.raises(CommandError, match="no system 'nope' on this BMC"):
        run(endpoint_for(server, system_id="nope"), lambda bmc: bmc.power_state())
    assert server.sessions == {}


# --- boot, identify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "persistent", "uefi", "boot"),
    [
        (BootDevice.PXE, False, True, {"BootSourceOverrideTarget": "Pxe", "BootSourceOverrideEnabled": "Once"}),
        (BootDevice.DISK, True, False, {"BootSourceOverrideTarget": "Hdd", "BootSourceOverrideEnabled": "Continuous"}),
        (BootDevice.BIOS, False, True, {"BootSourceOverrideTarget": "BiosSetup", "BootSourceOverrideEnabled": "Once"}),
    ],
)
def test_boot_override_patches_the_system(mockup, endpoint_for, device, persistent, uefi, boot):
    server = mockup()
    run(endpoint_for(server), lambda bmc: bmc.set_boot(device, persistent=persistent, uefi=uefi))
    (patch,) = server.made("PATCH", SYSTEM)
    assert patch.body == {"Boot": {**boot, "BootSourceOverrideMode": "UEFI" if uefi else "Legacy"}}


def test_boot_setting_reads_the_recorded_override(mockup, endpoint_for):
    server = mockup()
    setting = run(endpoint_for(server), lambda bmc: bmc.boot_setting())
    assert (setting.device, setting.persistent, setting.uefi) == (BootDevice.PXE, False, True)


@pytest.mark.parametrize(
    ("variant", "on", "body"),
    [
        ("public-rackmount1", True, {"IndicatorLED": "Blinking"}),
        ("public-rackmount1", False, {"IndicatorLED": "Off"}),
        ("openbmc", True, {"LocationIndicatorActive": True}),
        ("openbmc", False, {"LocationIndicatorActive": False}),
    ],
)
def test_identify_uses_the_property_the_bmc_offers(mockup, endpoint_for, variant, on, body):
    server = mockup(variant)
    run(endpoint_for(server), lambda bmc: bmc.identify(on))
    assert [p.body for p in server.made("PATCH", SYSTEM)] == [body]


# --- sensors -----------------------------------------------------------------------------------------


def test_sensors_read_thermal_and_power(mockup, endpoint_for):
    server = mockup()
    readings = {r.name: r for r in run(endpoint_for(server), lambda bmc: bmc.sensors())}
    assert (readings["CPU1 Temp"].value, readings["CPU1 Temp"].unit, readings["CPU1 Temp"].health) == (
        41.0,
        "°C",
        Health.OK,
    )
    assert readings["CPU2 Temp"].value is None  # disabled sensor: listed, no reading
    assert readings["BaseBoard System Fan"].value == 2100.0
    psu = readings["Power Supply Bay"]
    assert (psu.kind, psu.health, psu.state) == ("psu", Health.WARNING, "Enabled")
    assert readings["Power Supply Bay Power Out"].value == 325.0
    assert readings["VRM1 Voltage"].kind == "voltage"
    assert readings["System Input Power"].kind == "power"
    summary = sensor_summary(list(readings.values()))
    assert summary["power_w"] == 344  # the chassis' input; the PSU's output is not added to it
    assert summary["unhealthy"] == ["Power Supply Bay (Enabled)"]
    assert_one_session_closed(server)


def test_sensors_without_a_power_resource_still_answer(mockup, endpoint_for):
    server = mockup("no-power")
    readings = run(endpoint_for(server), lambda bmc: bmc.sensors())
    assert {r.kind for r in readings} == {"temperature", "fan"}
    assert len(server.made("GET", "/redfish/v1/Chassis/1U/Power")) == 1  # the 404, asked once
    assert_one_session_closed(server)


# --- event logs --------------------------------------------------------------------------------------


def test_events_come_from_system_and_manager_log_services(mockup, endpoint_for):
    server = mockup()
    entries = run(endpoint_for(server), lambda bmc: bmc.events())
    assert [(e.id, e.severity, e.message) for e in entries] == [
        ("1", Health.CRITICAL, "Temperature threshold exceeded"),
        ("2", Health.CRITICAL, "Temperature threshold exceeded"),
        ("1", Health.CRITICAL, "System May be Melting"),
    ]
    assert entries[0].timestamp == "2012-03-07T14:44:00Z" and entries[0].sensor == "Temperature"
    # the recorded nextLink leads to a page the mockup lacks (served as the same page): asked once, not looped
    assert len(server.made("GET", f"{SYSTEM}/LogServices/Log1/Entries")) == 2
    assert_one_session_closed(server)


def test_events_follow_next_links_across_pages(mockup, endpoint_for):
    server = mockup("paged-log")
    entries = run(endpoint_for(server), lambda bmc: bmc.events())
    assert [e.id for e in entries] == ["1", "2", "3", "1"]
    assert entries[2].message == "Temperature back to normal" and entries[2].severity == Health.OK
    assert [r.query for r in server.made("GET", f"{SYSTEM}/LogServices/Log1/Entries")] == ["", "$skip=2"]
    assert len(server.made("GET", f"{SYSTEM}/LogServices/Log1/Entries/3")) == 1  # page 2 only names it


def test_clear_events_posts_clear_log_to_every_service(mockup, endpoint_for):
    server = mockup()
    run(endpoint_for(server), lambda bmc: bmc.clear_events())
    posts = [(p.path, p.body) for p in server.made("POST") if p.path != SESSIONS]
    assert posts == [
        (f"{SYSTEM}/LogServices/Log1/Actions/LogService.ClearLog", {}),
        ("/redfish/v1/Managers/BMC/LogServices/Log/Actions/LogService.ClearLog", {}),
    ]
    assert_one_session_closed(server)


def test_a_bmc_without_log_services_says_so(mockup, endpoint_for):
    server = mockup()
    server.fail(f"{SYSTEM}/LogServices", 404)
    server.fail("/redfish/v1/Managers/BMC/LogServices", 404)
    with pytest.raises(Unsupported, match="no Redfish log service"):
        run(endpoint_for(server), lambda bmc: bmc.events())
    assert server.sessions == {}


# --- inventory ---------------------------------------------------------------------------------------


def test_inventory_reports_identity_firmware_psus_and_the_machines_own_nics(mockup, endpoint_for):
    server = mockup()
    inventory = run(endpoint_for(server), lambda bmc: bmc.inventory())
    assert (inventory.manufacturer, inventory.model, inventory.serial) == ("Contoso", "3500", "437XR1138R2")
    assert inventory.bmc_firmware == "1.45.455b66-rev4"
    assert inventory.bios_firmware == "P79 v1.45 (12/06/2017)"
    assert inventory.power_supplies == ("Power Supply Bay",)
    # VLAN1 repeats NIC 1's MAC and ToManager is the BMC's host interface: neither is a NIC of the machine
    assert inventory.macs == {"12446A3B0411": "12:44:6A:3B:04:11", "12446A3B8890": "AA:BB:CC:DD:EE:00"}
    assert len(server.made("GET", SYSTEM)) == 1  # the system is read once per operation
    assert_one_session_closed(server)


def test_inventory_reads_hpe_macaddress_spelling(mockup, endpoint_for):
    server = mockup("hpe-ilo")
    inventory = run(endpoint_for(server), lambda bmc: bmc.inventory())
    assert inventory.macs == {"12446A3B0411": "12:44:6A:3B:04:11", "12446A3B8890": "AA:BB:CC:DD:EE:00"}


def test_inventory_takes_blank_or_placeholder_identity_from_the_chassis(mockup, endpoint_for):
    server = mockup("blank-identity")
    inventory = run(endpoint_for(server), lambda bmc: bmc.inventory())
    assert (inventory.manufacturer, inventory.model, inventory.serial) == ("Contoso", "Super Server", "437XR1138R2")


def test_inventory_without_a_power_resource_lists_no_psus(mockup, endpoint_for):
    server = mockup("no-power")
    inventory = run(endpoint_for(server), lambda bmc: bmc.inventory())
    assert inventory.power_supplies == () and inventory.serial == "437XR1138R2"


# --- sessions and authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failing", "status", "operation", "message"),
    [
        ("/redfish/v1/Chassis/1U/Thermal", 500, "sensors", "thermal: HTTP 500 for /redfish/v1/Chassis/1U/Thermal"),
        ("/redfish/v1/Systems", 503, "power_state", "systems: HTTP 503"),  # inside __enter__, after the login
    ],
)
def test_session_is_deleted_when_something_fails(mockup, endpoint_for, failing, status, operation, message):
    server = mockup()
    server.fail(failing, status)
    with pytest.raises(CommandError, match=message):
        run(endpoint_for(server), lambda bmc: getattr(bmc, operation)())
    assert_one_session_closed(server)


@pytest.mark.filterwarnings("ignore:Service incorrectly did not provide")
def test_session_reply_without_location_uses_the_body(mockup, endpoint_for):
    server = mockup("no-location")
    assert run(endpoint_for(server), lambda bmc: bmc.power_state()) == PowerState.ON
    assert_one_session_closed(server)


@pytest.mark.filterwarnings("ignore:Service incorrectly did not provide")
def test_session_reply_without_any_location_is_a_clear_error(mockup, endpoint_for):
    server = mockup("bare-session-reply")
    with pytest.raises(CommandError, match="neither where it is") as caught:
        run(endpoint_for(server), lambda bmc: bmc.power_state())
    assert "auth" in (caught.value.hint or "")
    assert [r.method for r in server.requests] == ["GET", "POST"]  # stopped right there, nothing retried


@pytest.mark.parametrize(
    ("variant", "options"),
    [("bare-session-reply", {"auth": "basic"}), ("basic-only", {})],  # asked for, or no SessionService
)
def test_basic_auth_without_sessions(mockup, endpoint_for, variant, options):
    server = mockup(variant)
    assert run(endpoint_for(server, **options), lambda bmc: bmc.power_state()) == PowerState.ON
    assert server.sessions_created == 0 and not server.made("POST")
    assert {r.auth for r in server.requests if r.path != "/redfish/v1/"} == {"basic"}


@pytest.mark.parametrize("variant", ["public-rackmount1", "basic-only"])
def test_wrong_password_is_an_auth_error(mockup, endpoint_for, variant):
    server = mockup(variant)
    with pytest.raises(AuthError, match="refused the credentials"):
        run(endpoint_for(server, password="wrong"), lambda bmc: bmc.power_state())
    assert server.sessions == {} and server.sessions_created == 0


def test_an_html_service_root_is_a_clear_error(mockup, endpoint_for):
    server = mockup("html-root")
    with pytest.raises(CommandError, match=r"not valid Redfish JSON \(Service responded with invalid JSON"):
        run(endpoint_for(server), lambda bmc: bmc.power_state())
    assert [r.method for r in server.requests] == ["GET"]


# The library logs a non-JSON page at ERROR and warns about a missing Location; pytest installs its own log
# handler and warning recorder, so only a plain interpreter shows whether anything reaches the terminal.
QUIET_SCRIPT = """
import sys
from rackctl.drivers.redfish import RedfishBmc
from rackctl.errors import CommandError
from rackctl.types import Endpoint, Secret
for port in sys.argv[1:]:
    endpoint = Endpoint("n", "127.0.0.1", int(port), "redfish", "admin", Secret("secret"), False, {"scheme": "http"})
    try:
        with RedfishBmc(endpoint) as bmc:
            print(bmc.power_state().value)
    except CommandError as exc:
        print(type(exc).__name__)
"""


def test_library_complaints_never_reach_the_terminal(mockup):
    ports = [str(mockup(variant).port) for variant in ("no-location", "html-root")]
    source = str(Path(rackctl.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", QUIET_SCRIPT, *ports], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert (done.returncode, done.stdout.split(), done.stderr) == (0, ["on", "CommandError"], "")


def test_an_unreachable_bmc_is_a_connect_error_at_once(mockup, endpoint_for):
    server = mockup()
    endpoint = endpoint_for(server)
    server.stop()
    started = time.monotonic()
    with pytest.raises(ConnectError, match="no usable answer from the BMC"):
        run(endpoint, lambda bmc: bmc.power_state())
    assert time.monotonic() - started < 2.0  # refused, not retried (the library retries 10 times by default)


@pytest.mark.parametrize(("variant", "answers"), [("public-rackmount1", True), ("html-root", False)])
def test_answers_probes_the_service_root(mockup, endpoint_for, variant, answers):
    server = mockup(variant)
    assert RedfishBmc.answers(endpoint_for(server)) is answers
