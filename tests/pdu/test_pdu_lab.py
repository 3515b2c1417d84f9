"""`rackctl pdu ...` against the simulated rack: outlets switched at the PDU reach the nodes' BMCs,
readings follow what the nodes draw, and a frozen PDU or a refused command fails only its outlets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rackctl.lab import processes, snmp

from .conftest import UNDER_LOAD, RackLab

PDUS = "pdu-r12-a1,pdu-r12-a2,pdu-r12-b1,pdu-r12-b2"
# A ceiling for waits on a condition, never reached unless something is broken: on a loaded 2-core machine
# the simulators answer late, and a test must not fail because of that.
SETTLE_S = 120.0
BROKEN_S = 300.0  # the lab's bound for what only a broken lab takes longer than


def _json(lab: RackLab, *args: str, code: int = 0) -> Any:
    result = lab(*args, "--json")
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def _watts(report: Any, level: str) -> dict[int, float]:
    return {m["number"]: m["power_w"] for m in report["value"]["readings"]["meters"] if m["level"] == level}


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
    # The PDU answers the SET at once and the node reacts after it, as a real one does: wait until the BMC
    # reports the PSU without input (a condition, not a margin) before asking verify-feeds.
    seen: list[str] = []
    told = processes.wait_for(lambda: _without_input(lab, "gpu-r12-u03", "PSU2", seen), timeout=BROKEN_S, interval=0.5)
    assert told, f"the BMC never reported PSU2 without input; its last sensors answer: {seen[-1:]}"
    feeds = lab("pdu", "verify-feeds", "gpu-r12-u03", *UNDER_LOAD, "--yes")
    assert feeds.exit_code == 2
    assert "refusing to verify gpu-r12-u03: PSU2 has no input; its other feed is not healthy" in feeds.stderr


def _without_input(lab: RackLab, node: str, psu: str, seen: list[str]) -> bool:
    # A sensors read walks the SDR in dozens of round trips: on a starved machine it needs more than the
    # default 10 s, and a read that times out is only asked again.
    result = lab("sensors", node, "--json", *UNDER_LOAD[:2])
    seen.append((result.stdout + result.stderr)[-400:])
    readings = json.loads(result.stdout)[0]["value"] if result.exit_code == 0 else []
    return any(r["name"].split()[0] == psu and "input lost" in r["state"].lower() for r in readings)


def _readings_once(lab: RackLab, settled: Callable[[dict[int, float]], bool]) -> Any:
    """pdu-r12-a1's readings once `settled` holds for its outlets: waits on the condition, not a margin."""
    seen: list[Any] = []

    def read() -> bool:
        seen[:] = _json(lab, "pdu", "readings", "pdu-r12-a1")
        return settled(_watts(seen[0], "outlet"))

    assert processes.wait_for(read, timeout=SETTLE_S, interval=0.2), _watts(seen[0], "outlet")
    return seen[0]


def test_readings_follow_the_nodes(lab: RackLab) -> None:
    lab.ok("power", "off", "gpu-r12-u03", "--yes")
    before = _readings_once(lab, lambda outlets: outlets[25] == 20)  # the simulator catches up in its own time
    lab.ok("power", "on", "gpu-r12-u03")
    after = _readings_once(lab, lambda outlets: outlets[25] > 20)
    watts, standby = _watts(after, "outlet"), _watts(before, "outlet")
    assert standby[25] == 20  # BMC standby per PSU
    assert watts[25] == round(10200 * 0.7 / 6)  # one of six PSUs of a running H100 node
    # The inlet carries at least this outlet's load; how much else depends on the other nodes, which earlier
    # tests may still be switching, so no comparison with `before` (that raced on a loaded machine).
    assert sum(_watts(after, "inlet").values()) >= watts[25]
    assert after["value"]["identity"]["model"] == "PX3-5902V"
    table = lab.ok("pdu", "readings", "pdu-r12-a1")
    assert "gpu-r12-u03 PSU1" in table.stdout and "phase" in table.stdout


def test_a_frozen_pdu_fails_its_outlets_and_nothing_else(lab: RackLab) -> None:
    snmp.pdu_hung(lab.folder, "pdu-r12-b2")
    result = _json(lab, "pdu", "status", "pdu-r12-b1,pdu-r12-b2:25-26", "--timeout", "3", code=1)
    assert [r["ok"] for r in result] == [True, True, False, False]
    assert all(r["error_type"] == "Timeout" for r in result[2:])
    readings = lab("pdu", "readings", "pdu-r12-b2", "--timeout", "3")
    assert readings.exit_code == 1 and "gave no readings: pdu-r12-b2" in readings.stderr
    assert "no answer from the agent" in readings.stdout


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
