"""`rackctl pdu ...` against the simulated rack: outlets switched at the PDU reach the nodes' BMCs,
readings follow what the nodes draw, and a frozen PDU or a refused command fails only its outlets."""

from __future__ import annotations

import json
import time
from typing import Any

from rackctl.lab import snmp

from .conftest import RackLab

PDUS = "pdu-r12-a1,pdu-r12-a2,pdu-r12-b1,pdu-r12-b2"


def _json(lab: RackLab, *args: str, code: int = 0) -> Any:
    result = lab(*args, "--json")
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_status_of_every_outlet_and_what_it_feeds(lab: RackLab) -> None:
    out = _json(lab, "pdu", "status", "pdu-r12-a1")
    assert len(out) == 36 and all(r["ok"] and r["value"]["state"] == "on" for r in out)
    by_target = {r["target"]: r["value"] for r in out}
    assert by_target["pdu-r12-a1:25"]["feeds"] == "gpu-r12-u03 PSU1"
    assert by_target["pdu-r12-a1:3"]["feeds"] == ""


def test_an_outlet_off_is_a_psu_without_input_on_the_bmc(lab: RackLab) -> None:
    off = _json(lab, "pdu", "off", "pdu-r12-b1:25", "--yes")
    assert off[0]["value"]["message"] == "powered off" and off[0]["value"]["detail"]["before"] == "on"
    again = _json(lab, "pdu", "off", "pdu-r12-b1:25", "--yes")
    assert again[0]["value"]["message"] == "already off"
    assert _json(lab, "pdu", "status", "pdu-r12-b1:25")[0]["value"]["state"] == "off"
    feeds = lab("pdu", "verify-feeds", "gpu-r12-u03", "--yes")
    assert feeds.exit_code == 2
    assert "refusing to verify gpu-r12-u03: PSU2 has no input; its other feed is not healthy" in feeds.stderr


def test_readings_follow_the_nodes(lab: RackLab) -> None:
    lab.ok("power", "off", "gpu-r12-u03", "--yes")
    time.sleep(0.5)
    (before,) = _json(lab, "pdu", "readings", "pdu-r12-a1")
    lab.ok("power", "on", "gpu-r12-u03")
    time.sleep(0.5)
    (after,) = _json(lab, "pdu", "readings", "pdu-r12-a1")
    watts = {m["name"]: m["power_w"] for m in after["value"]["readings"]["outlets"]}
    standby = {m["name"]: m["power_w"] for m in before["value"]["readings"]["outlets"]}
    assert standby["25"] == 20  # BMC standby per PSU
    assert watts["25"] == round(10200 * 0.7 / 6)  # one of six PSUs of a running H100 node
    assert after["value"]["readings"]["total_power_w"] > before["value"]["readings"]["total_power_w"] + 2000
    assert after["value"]["identity"]["model"] == "PX3-5902V"
    table = lab.ok("pdu", "readings", "pdu-r12-a1")
    assert "gpu-r12-u03 PSU1" in table.stdout and "phase" in table.stdout


def test_a_frozen_pdu_fails_its_outlets_and_nothing_else(lab: RackLab) -> None:
    snmp.pdu_hung(lab.folder, "pdu-r12-b2")
    result = _json(lab, "pdu", "status", "pdu-r12-b1,pdu-r12-b2:25-26", "--timeout", "3", code=1)
    assert [r["ok"] for r in result] == [True, True, False, False]
    assert all(r["error_type"] == "Timeout" for r in result[2:])
    readings = lab("pdu", "readings", "pdu-r12-b2", "--timeout", "3")
    assert readings.exit_code == 1 and "did not answer: pdu-r12-b2" in readings.stderr


def test_a_refused_command_is_reported_per_outlet(lab: RackLab) -> None:
    snmp.pdu_locked(lab.folder, "pdu-r12-a1", [3])
    result = _json(lab, "pdu", "off", "pdu-r12-a1:3-4", "--yes", code=1)
    assert not result[0]["ok"] and "refused the request (notWritable" in result[0]["error"]
    assert result[1]["ok"] and result[1]["value"]["state"] == "off"
    log = _json(lab, "log", "--kind", "operation", "--limit", "1")
    assert log[0]["command"] == "pdu off pdu-r12-a1:3-4" and log[0]["actor"] == "tester"
    assert [r["ok"] for r in log[0]["results"]] == [False, True]


def test_cycle_an_outlet(lab: RackLab) -> None:
    out = _json(lab, "pdu", "cycle", "pdu-r12-a2:1", "--yes", "--wait", "10")
    assert out[0]["value"]["message"] == "power cycled" and out[0]["value"]["state"] == "on"
