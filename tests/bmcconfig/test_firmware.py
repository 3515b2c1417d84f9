"""Firmware against the baseline, over real HTTP: writable DMTF mockups as the BMCs, rackctl serving the images."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation
from tests.bmcconfig.conftest import lab_image

BMC = "/redfish/v1/UpdateService/FirmwareInventory/BMC"
QUICK = ("--bmc-wait", "20s", "--task-timeout", "20s", "--poll", "0.1s", "--timeout", "20")


def _baseline(tmp_path: Path, bmc: str = "1.46.0", bios: str = "P79 v1.46") -> dict:
    bmc_image, bmc_sum = lab_image(tmp_path, "BMC", bmc)
    bios_image, bios_sum = lab_image(tmp_path, "BIOS", bios)
    return {
        "bmc": {"version": bmc, "image": str(bmc_image), "sha256": bmc_sum},
        "bios": {"version": bios, "image": str(bios_image), "sha256": bios_sum},
    }


def test_inventory_lists_every_running_component(fleet):
    run = fleet(nodes=1)
    code, rows = run.json("firmware", "inventory", "gpu-r12-u03")
    assert code == 0
    found = {(c["id"], c["kind"], c["version"]) for c in rows[0]["value"]}
    # DMTF's collection says Members@odata.count 2 but lists three: every listed member counts
    assert found == {("BMC", "bmc", "1.45.455b66-rev4"), ("BIOS", "bios", "P79 v1.45"), ("SS", "other", "2.50")}


def test_plan_orders_host_firmware_first_and_says_which_reboots(fleet, tmp_path):
    run = fleet(nodes=1, firmware=_baseline(tmp_path))
    code, rows = run.json("firmware", "plan", "gpu-r12-u03")
    assert code == 0
    steps = rows[0]["value"]["steps"]
    assert [(s["kind"], s["reboot"], s["bmc_reset"]) for s in steps] == [("bios", True, False), ("bmc", False, True)]
    assert [c["version"] for c in steps[0]["components"]] == ["P79 v1.45"]
    assert not run.servers["gpu-r12-u03"].made("POST", "/redfish/v1/UpdateService/Actions/SimpleUpdate")


def test_update_brings_nodes_to_the_baseline_through_simple_update(fleet, tmp_path, db: Database):
    run = fleet(nodes=2, firmware=_baseline(tmp_path))
    result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = {row["target"]: row for row in result.json()}
    for node, server in run.servers.items():
        assert rows[node]["ok"], rows[node]
        assert rows[node]["detail"]["components"] == {
            "bios": {"before": "P79 v1.45", "wanted": "P79 v1.46", "after": "P79 v1.46"},
            "bmc": {"before": "1.45.455b66-rev4", "wanted": "1.46.0", "after": "1.46.0"},
        }
        # the BMC fetched both images from rackctl's server (SimpleUpdate), then was reset for the BIOS
        assert len(server.writes.fetched) == 2 and all(u.startswith("http://127.0.0.1:") for u in server.writes.fetched)
        assert server.made("POST", "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset")
    with db.transaction() as session:
        commands = [o.command for o in session.scalars(select(Operation).order_by(Operation.id))]
    assert commands[-2:] == ["firmware update gpu-r12-u[03,11] (intent)", "firmware update gpu-r12-u[03,11]"]
