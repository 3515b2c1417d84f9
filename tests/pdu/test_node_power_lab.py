"""Node power through the PDUs in the simulated rack: a PDU cycle that recovers a hung BMC, feed
verification that finds a swapped cord, sequenced power-on that holds back on measured load, and a
full rack restore after an outage."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from rackctl.lab import snmp, wiring

from .conftest import UNDER_LOAD, RackLab

PDUS = "pdu-r12-a1,pdu-r12-a2,pdu-r12-b1,pdu-r12-b2"


def _json(lab: RackLab, *args: str, code: int = 0) -> Any:
    result = lab(*args, "--json")
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_a_pdu_cycle_recovers_a_hung_bmc(lab: RackLab) -> None:
    hung = lab.bmc_pid("gpu-r12-u11")
    os.kill(hung, signal.SIGSTOP)  # the BMC hangs: it still runs, but answers nothing
    assert lab("power", "status", "gpu-r12-u11", "--timeout", "2").exit_code == 1
    out = _json(lab, "power", "cycle", "gpu-r12-u11", "--via", "pdu", "--off-time", "1s", "--wait", "60", "--yes")
    node, *outlets = out
    assert node["ok"], node["error"]
    assert node["value"]["message"].startswith("cycled at pdu-r12-a1:27, pdu-r12-a2:26, pdu-r12-a2:27, pdu-r12-b1:27")
    assert node["value"]["detail"]["outlets"] == [o["target"] for o in outlets] and len(outlets) == 6
    assert lab.bmc_pid("gpu-r12-u11") != hung
    assert _json(lab, "power", "status", "gpu-r12-u11")[0]["value"]["after"] == "on"
    logged = _json(lab, "log", "--kind", "operation", "--target", "pdu-r12-b2:27", "--limit", "1")
    assert logged[0]["command"] == "power cycle gpu-r12-u11 --via pdu" and logged[0]["ok"]


def test_verify_feeds_as_inventoried(lab: RackLab) -> None:
    out = _json(lab, "pdu", "verify-feeds", "gpu-r12-u19", *UNDER_LOAD, "--yes")
    assert out[0]["value"]["message"] == "all 6 outlets feed the PSUs the inventory says"
    assert [r["value"]["message"] for r in out[1:3]] == ["as inventoried: PSU1", "as inventoried: PSU5"]


def test_verify_feeds_finds_a_swapped_cord(lab: RackLab) -> None:
    done = wiring.outlet_miswired(lab.folder, "gpu-r12-u27", ("PSU2", "PSU6"))
    assert done == "gpu-r12-u27: PSU2 now on pdu-r12-b2 outlet 30, PSU6 on pdu-r12-b2 outlet 29"
    result = lab("pdu", "verify-feeds", "gpu-r12-u27", *UNDER_LOAD, "--yes")
    assert result.exit_code == 1
    assert "PSU6 of gpu-r12-u27 is on pdu-r12-b2 outlet 29, inventory says outlet 30" in result.stdout
    assert "PSU2 of gpu-r12-u27 is on pdu-r12-b2 outlet 30, inventory says outlet 29" in result.stdout
    assert "4 of 7 succeeded, 3 failed" in result.stdout  # the node and its two swapped outlets


def test_sequenced_power_on_holds_back_when_the_pdu_measures_too_much(lab: RackLab) -> None:
    lab.ok("power", "off", "@rack:r12", "--yes")
    snmp.pdu_extra_load(lab.folder, "pdu-r12-b1", 33000)  # 33 of its 36.2 kW usable taken by unknown load
    out = _json(
        lab, "power", "on", "@rack:r12", "--sequence", "--stagger", "0s", "--hold", "1s", "--wait", "60", code=1
    )
    by_name = {r["target"]: r for r in out}
    assert by_name["leaf-r12-a"]["ok"] and by_name["leaf-r12-a"]["value"]["detail"]["wave"] == 1
    held = by_name["gpu-r12-u03"]
    assert not held["ok"] and held["error"].startswith("held back before wave 2: pdu-r12-b1 measures 33.")
    assert "wave 2 needs 11.5 kW more of 36.2 kW usable" in held["error"]
    assert all(r["value"]["after"] == "off" for r in _json(lab, "power", "status", "@rack:r12", code=0))


def test_restore_a_rack_after_an_outage(lab: RackLab) -> None:
    lab.ok("pdu", "off", PDUS, "--yes")  # the outage: every outlet dark, every BMC without standby power
    assert lab("power", "status", "@rack:r12", "--timeout", "2").exit_code == 1
    started = time.monotonic()
    out = _json(lab, "power", "restore", "@rack:r12", "--stagger", "0s", "--wait", "60")
    seconds = time.monotonic() - started
    waves = {r["target"]: r["value"]["detail"]["wave"] for r in out}
    assert waves == {
        "con-r12": 1, "leaf-r12-a": 1, "leaf-r12-b": 1, "mgmt-r12": 1,
        "gpu-r12-u03": 2, "gpu-r12-u11": 2, "gpu-r12-u19": 2, "gpu-r12-u27": 2,
    }  # fmt: skip
    assert all(r["value"]["after"] == "on" for r in _json(lab, "power", "status", "@rack:r12"))
    print(f"full rack restore in the simulator: {seconds:.1f}s")
