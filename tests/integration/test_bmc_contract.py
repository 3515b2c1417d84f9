"""The same contract for every BMC driver, run against real simulators: ipmi_sim and sushy-tools.

A driver that claims a capability must behave the same way whatever protocol is underneath.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rackctl.drivers.base import BootControl, FirmwareInventory, Identify, PowerControl, SensorReader
from rackctl.errors import AuthError, ConnectError, Timeout
from rackctl.services import power
from rackctl.services.bmc import BmcTarget, driver_for
from rackctl.types import BootDevice, Endpoint, MgmtProtocol, PowerAction, PowerState, Secret
from tests.integration.conftest import Lab

NODES = {"ipmi": "gpu-r12-u03", "redfish": "gpu-r20-u03"}


@pytest.fixture(params=["ipmi", "redfish"])
def bmc_endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    lab: Lab = request.getfixturevalue(f"{request.param}_lab")
    yield lab.endpoint(NODES[request.param])


def _driver(endpoint: Endpoint) -> object:
    return driver_for(BmcTarget(endpoint.name, endpoint, MgmtProtocol(endpoint.protocol)))


def test_claims_the_capabilities(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        for capability in (PowerControl, BootControl, SensorReader, FirmwareInventory, Identify):
            assert isinstance(bmc, capability), capability.__name__


def test_power_on_then_off_is_confirmed_and_idempotent(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        assert bmc.power_state() == PowerState.OFF
        first = power.action(PowerAction.ON, wait_s=20)(bmc)
        assert (first.changed, first.after) == (True, PowerState.ON)
        second = power.action(PowerAction.ON, wait_s=20)(bmc)
        assert (second.changed, second.message) == (False, "already on")
        off = power.action(PowerAction.OFF, wait_s=20)(bmc)
        assert off.after == PowerState.OFF


def test_boot_override_is_accepted(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        bmc.set_boot(BootDevice.PXE, persistent=False, uefi=True)
        setting = bmc.boot_setting()
    if bmc_endpoint.protocol == "redfish":
        # NOTE(ipmi_sim): Get System Boot Options always reads "default"; sushy-tools keeps the override.
        assert setting.device == BootDevice.PXE


def test_sensors_carry_units_and_health(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        readings = bmc.sensors()
    temperatures = [r for r in readings if r.kind == "temperature"]
    assert temperatures and all(r.unit == "°C" and r.value is not None for r in temperatures)


def test_inventory_names_the_machine_and_its_firmware(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        found = bmc.inventory()
    assert found.manufacturer and found.bmc_firmware


def test_identify_on_and_off(bmc_endpoint: Endpoint) -> None:
    with _driver(bmc_endpoint) as bmc:
        bmc.identify(True)
        bmc.identify(False)


def test_wrong_password_is_an_auth_error(bmc_endpoint: Endpoint) -> None:
    wrong = Endpoint(**{**bmc_endpoint.__dict__, "password": Secret("definitely-wrong")})
    with pytest.raises(AuthError), _driver(wrong):
        pass


def test_nobody_listening_is_a_connect_error_not_a_hang() -> None:
    started = time.monotonic()
    endpoint = Endpoint("ghost", "127.9.9.9", 8443, "redfish", "admin", Secret("x"), verify_tls=False)
    with pytest.raises((ConnectError, Timeout)), _driver(endpoint):
        pass
    assert time.monotonic() - started < 15


def _reference_tools_say(address: str, password: str) -> tuple[str, str]:
    ipmitool = subprocess.run(
        [
            "ipmitool",
            "-I",
            "lanplus",
            "-C",
            "3",
            "-H",
            address,
            "-U",
            "admin",
            "-P",
            password,
            "chassis",
            "power",
            "status",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    ipmipower = subprocess.run(
        ["ipmipower", "-D", "LAN_2_0", "-W", "opensesspriv", "-h", address, "-u", "admin", "-p", password, "--stat"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return ipmitool.stdout.strip(), ipmipower.stdout.strip()


def test_ipmitool_and_freeipmi_see_what_rackctl_did(ipmi_lab: Lab) -> None:
    lab = ipmi_lab.state()
    address = lab.bmcs["gpu-r12-u19"].address
    password = (Path(lab.secret_folder) / "bmc-password").read_text().strip()
    assert ipmi_lab.cli("power", "on", "gpu-r12-u19", "--wait", "10").exit_code == 0
    assert _reference_tools_say(address, password) == ("Chassis Power is on", f"{address}: on")
    assert ipmi_lab.cli("power", "off", "gpu-r12-u19", "--wait", "10").exit_code == 0
    assert _reference_tools_say(address, password) == ("Chassis Power is off", f"{address}: off")
