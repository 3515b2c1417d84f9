"""Audits of the out-of-band layers on the lab: BMCs (ipmi_sim) and PDUs (snmpsim) against the inventory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.integration.conftest import Lab


def _audit(lab: Lab, layers: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = lab.cli("audit", "@rack:r12", "--layers", layers, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def _checks(report: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f["device"], f["check"]) for f in report["findings"]}


def test_a_clean_rack_in_service_gives_no_findings(ipmi_lab: Lab) -> None:
    assert ipmi_lab.cli("power", "on", "@rack:r12", "--sequence").exit_code == 0
    assert ipmi_lab.cli("device", "set", "@role:gpu-node", "--state", "in-service", "--force").exit_code == 0
    code, report = _audit(ipmi_lab, "bmc,pdu")
    assert (code, report["findings"]) == (0, [])
    assert report["summary"]["not_audited"] == 0


def test_power_changed_behind_rackctls_back_and_an_outlet_turned_off_are_found(ipmi_lab: Lab) -> None:
    assert ipmi_lab.cli("power", "on", "@rack:r12", "--sequence").exit_code == 0
    assert ipmi_lab.cli("device", "set", "@role:gpu-node", "--state", "in-service", "--force").exit_code == 0
    lab = ipmi_lab.state()
    password = (Path(lab.secret_folder) / "bmc-password").read_text().strip()
    # Someone switches a node off with ipmitool, and an outlet off at the PDU, not through rackctl.
    bmc = lab.bmcs["gpu-r12-u11"]
    subprocess.run(
        [
            "ipmitool",
            "-I",
            "lanplus",
            "-C",
            "3",
            "-H",
            bmc.address,
            "-U",
            "admin",
            "-P",
            password,
            "chassis",
            "power",
            "off",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    assert ipmi_lab.cli("pdu", "off", "pdu-r12-b2:25", "--yes").exit_code == 0
    code, report = _audit(ipmi_lab, "bmc,pdu")
    assert code == 1
    found = _checks(report)
    assert ("gpu-r12-u11", "power") in found
    power = next(f for f in report["findings"] if f["check"] == "power")
    assert (power["expected"], power["observed"], power["severity"]) == ("on", "off", "critical")
    assert any(device == "pdu-r12-b2" for device, _ in found)


def test_an_unreachable_bmc_is_not_audited_never_clean(ipmi_lab: Lab) -> None:
    assert ipmi_lab.cli("lab", "fault", "gpu-r12-u19", "bmc-dead").exit_code == 0
    code, report = _audit(ipmi_lab, "bmc")
    assert code == 2
    reasons = {(r["device"], r["layer"]): r["reason"] for r in report["not_audited"]}
    assert list(reasons) == [("gpu-r12-u19", "bmc")]
    assert "does not answer" in reasons[("gpu-r12-u19", "bmc")]
