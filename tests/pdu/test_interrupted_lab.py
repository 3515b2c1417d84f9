"""Destruction that survives: real `rackctl` processes interrupted (SIGINT) or killed (SIGKILL) mid-run on
the simulated rack leave every target's fate in the operation log; PDU commands that time out are read
back and never leave a node's feed off; a cycle never powers on a node that was off."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation, OperationResult
from rackctl.lab import ipmi, snmp, state

from .conftest import NODES, RackLab

U11_OUTLETS = ["pdu-r12-a1:27", "pdu-r12-a2:26", "pdu-r12-a2:27", "pdu-r12-b1:27", "pdu-r12-b2:26", "pdu-r12-b2:27"]


def _json(lab: RackLab, *args: str, code: int = 0) -> Any:
    result = lab(*args, "--json")
    assert result.exit_code == code, result.stdout + result.stderr
    return json.loads(result.stdout)


def _until(condition: Callable[[], bool], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _spawn(lab: RackLab, *args: str) -> subprocess.Popen[str]:
    """A real rackctl process on the lab (signals go to it, not to pytest)."""
    env = {**os.environ, **lab.env}
    return subprocess.Popen(
        [sys.executable, "-m", "rackctl", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@contextmanager
def _database(lab: RackLab) -> Iterator[Database]:
    db = Database(lab.env["RACKCTL_DB_URL"])
    try:
        yield db
    finally:
        db.dispose()


def _results_of_latest(db: Database) -> tuple[int, int]:
    """(operations, results of the newest operation) as the log holds them now."""
    with db.engine.connect() as conn:
        newest = conn.scalar(select(func.max(Operation.id))) or 0
        results = conn.scalar(select(func.count()).where(OperationResult.operation_id == newest)) or 0
        return newest, results


def _outlets(lab: RackLab, labels: list[str]) -> dict[str, str | None]:
    """Each outlet's state as its PDU reads it now (None: the PDU did not answer)."""
    states: dict[str, str | None] = {}
    for label in labels:
        result = lab("pdu", "status", label, "--json")
        row = json.loads(result.stdout)[0] if result.stdout.startswith("[") else {}
        states[label] = row["value"]["state"] if row.get("ok") else None
    return states


def _states(lab: RackLab) -> dict[str, str]:
    return {r["target"]: r["value"]["after"] for r in _json(lab, "power", "status", "@rack:r12")}


def _slow_bmcs(lab: RackLab) -> None:
    for node in NODES:
        lab.ok("lab", "fault", node, "bmc-slow")


def _power_off_interrupted(lab: RackLab, sig: signal.Signals) -> tuple[subprocess.Popen[str], int]:
    """Start `power off` on every node, one at a time on slow BMCs; send `sig` once the first result is
    in the log. Returns the process (ended) and its operation's id."""
    lab.ok("power", "on", "@rack:r12")
    _slow_bmcs(lab)
    with _database(lab) as db:
        before, _ = _results_of_latest(db)
        run = _spawn(
            lab, "power", "off", "@rack:r12", "--yes", "--workers", "1", "--wait", "0", "--timeout", "60", "--json"
        )
        _until(lambda: _results_of_latest(db)[0] > before and _results_of_latest(db)[1] >= 1)
        operation_id = _results_of_latest(db)[0]
    run.send_signal(sig)
    run.communicate(timeout=120)
    lab.ok("lab", "heal")
    _bmcs_answer(lab)  # a BMC may still be busy with what a killed run asked
    return run, operation_id


def _bmcs_answer(lab: RackLab) -> None:
    now = state.load(lab.folder)
    assert now is not None
    assert not ipmi.wait_answering([b.address for b in now.bmcs.values()], timeout=60), "BMCs did not answer"


def _logged(lab: RackLab, operation_id: int) -> dict[str, Any]:
    return next(op for op in _json(lab, "log", "--kind", "operation", "--limit", "5") if op["id"] == operation_id)


def test_sigint_lets_the_node_in_flight_finish_and_records_every_node(lab: RackLab) -> None:
    run, operation_id = _power_off_interrupted(lab, signal.SIGINT)
    assert run.returncode == 130
    logged = _logged(lab, operation_id)
    assert logged["command"] == "power off @rack:r12" and logged["targets"] == list(NODES)
    assert logged["interrupted"] == "SIGINT" and logged["ok"] is False
    results = {r["target"]: r for r in logged["results"]}
    assert sorted(results) == sorted(NODES)  # every node, once
    done = [n for n, r in results.items() if r["ok"]]
    untouched = [n for n, r in results.items() if r["message"].startswith("not started: interrupted (SIGINT)")]
    unknown = [n for n, r in results.items() if r["message"].startswith("unknown: in flight when interrupted")]
    assert len(done) >= 1 and len(untouched) >= 1, results  # the first node's result was in before the signal
    assert len(done) + len(untouched) + len(unknown) == len(NODES), results
    states = _states(lab)
    assert [states[n] for n in done] == ["off"] * len(done), (results, states)
    assert [states[n] for n in untouched] == ["on"] * len(untouched), (results, states)
    lab.ok("power", "on", "@rack:r12")


def test_a_killed_run_leaves_its_intent_and_the_unknown_in_the_log(lab: RackLab) -> None:
    run, operation_id = _power_off_interrupted(lab, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL
    logged = _logged(lab, operation_id)
    assert logged["ok"] is None and logged["summary"].startswith("UNFINISHED: ")
    results = {r["target"]: r for r in logged["results"]}
    assert sorted(results) == sorted(NODES)
    assert any(r["ok"] for r in results.values())
    assert any(r["message"] == "unknown: no result recorded" for r in results.values())
    table = lab.ok("log", "--kind", "operation", "--limit", "1").stdout
    assert "UNFINISHED" in table
    lab.ok("power", "on", "@rack:r12")  # the dead run's leases block nobody


def test_sigint_during_the_off_time_switches_the_outlets_back_on(lab: RackLab) -> None:
    run = _spawn(lab, "power", "cycle", "gpu-r12-u11", "--via", "pdu", "--off-time", "600s", "--yes", "--json")
    _until(lambda: set(_outlets(lab, U11_OUTLETS).values()) == {"off"})
    run.send_signal(signal.SIGINT)
    out, _ = run.communicate(timeout=300)
    assert run.returncode == 130
    node, *switched = json.loads(out)
    assert node["target"] == "gpu-r12-u11" and len(switched) == 6
    assert node["error"].startswith("unknown: interrupted (SIGINT) during the off time; outlets back on")
    assert set(_outlets(lab, U11_OUTLETS).values()) == {"on"}
    logged = _json(lab, "log", "--kind", "operation", "--target", "gpu-r12-u11", "--limit", "1")[0]
    assert logged["command"] == "power cycle gpu-r12-u11 --via pdu" and logged["interrupted"] == "SIGINT"
    assert [r["target"] for r in logged["results"]] == ["gpu-r12-u11", *U11_OUTLETS]


@contextmanager
def _late_pdu(lab: RackLab, pdu: str, seconds: float) -> Iterator[None]:
    """The PDU answers each outlet command `seconds` late; rackctl's SNMP requests wait long enough not to
    resend them (so every command is sent once)."""
    with _database(lab) as db, db.transaction() as session:
        mgmt = queries.device(session, pdu).mgmt
        assert mgmt is not None
        saved, mgmt.options = dict(mgmt.options or {}), {**(mgmt.options or {}), "timeout": 30, "retries": 0}
    snmp.pdu_late(lab.folder, pdu, seconds)
    try:
        yield
    finally:
        snmp.pdu_late(lab.folder, pdu, 0)
        with _database(lab) as db, db.transaction() as session:
            endpoint = queries.device(session, pdu).mgmt
            assert endpoint is not None
            endpoint.options = saved


def test_a_pdu_job_past_its_deadline_is_stopped_and_read_back(lab: RackLab) -> None:
    with _late_pdu(lab, "pdu-r12-b1", 1.0):
        out = _json(lab, "pdu", "off", "pdu-r12-b1:3-14", "--yes", "--timeout", "1", "--wait", "0", code=1)
        now = {r["target"]: r["value"]["state"] for r in _json(lab, "pdu", "status", "pdu-r12-b1:3-14")}
    assert len(out) == 12
    assert sum(r["ok"] for r in out) < 12  # 12 commands of 1 s each cannot fit the job's 7 s: it was cut off
    for row in out:
        if row["ok"]:
            assert row["value"]["message"].startswith("off (read back after: no answer within ")
        else:
            assert "reads on now" in row["error"] or row["error"].startswith("no answer within ")
    assert now == {r["target"]: "off" if r["ok"] else "on" for r in out}  # what it said is what is


def test_a_cycle_whose_pdu_answers_late_leaves_no_outlet_off(lab: RackLab) -> None:
    with _late_pdu(lab, "pdu-r12-b2", 7.0):  # two of the node's outlets: longer than the job may take
        result = lab("power", "cycle", "gpu-r12-u11", "--via", "pdu", "--yes", "--timeout", "1", "--json")
    node, *_ = json.loads(result.stdout)
    for label, seen in _outlets(lab, U11_OUTLETS).items():  # read back and restored: on, or said to be not
        assert seen == "on" or f"OUTLETS NOT CONFIRMED ON: {label}" in (node["error"] or ""), (label, node)


def test_a_cycle_leaves_a_node_that_is_off_off(lab: RackLab) -> None:
    lab.ok("power", "on", "@rack:r12")
    lab.ok("power", "off", "gpu-r12-u19", "--yes")
    plan = _json(lab, "power", "cycle", "gpu-r12-u03,gpu-r12-u19", "--dry-run")
    assert [r["value"]["message"] for r in plan] == [
        "on: would send cycle",
        "off: would not act - is off: left off (a cycle never switches on what is off; switch it on instead)",
    ]
    out = _json(lab, "power", "cycle", "gpu-r12-u03,gpu-r12-u19", "--yes", code=1)
    assert out[0]["ok"] and not out[1]["ok"] and out[1]["error"].startswith("is off: left off")
    assert _states(lab)["gpu-r12-u19"] == "off"
    lab.ok("power", "on", "gpu-r12-u19")
