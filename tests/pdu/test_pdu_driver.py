"""The SNMP PDU driver against snmpsim PDUs of every family (the same contract for each): identity,
outlet state and switching read back, readings with each MIB's scaling, SNMPv3, a frozen agent, a
refused command, and a recorded walk full of bad answers."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rackctl.drivers.base import OutletControl, PduMeter
from rackctl.drivers.pdu_snmp import SnmpPdu
from rackctl.errors import AuthError, CommandError, Timeout
from rackctl.lab import processes, snmp
from rackctl.lab.pduwalks import PduSpec, snmprec
from rackctl.lab.plan import PDU_NET, free_loopback
from rackctl.types import Endpoint, PowerAction, PowerState, Secret

FAMILIES = ("apc", "apc-rpdu", "raritan", "servertech")
COMMUNITY = "rackctl-test"
V3 = snmp.V3User("rackctl", "auth-secret-1", "priv-secret-1")
OUTLETS = tuple(range(1, 13))
DRAW_W = 2000.0  # a two-PSU device on outlets 1 (L1) and 2 (L2): 700 W each at the lab's load factor
DATA = Path(__file__).parent.parent / "data" / "pdu"


@dataclass(frozen=True)
class Agent:
    family: str
    address: str
    port: int
    folder: Path
    pid: int

    def endpoint(self, **options: Any) -> Endpoint:
        secret = options.pop("secret", COMMUNITY)
        user = options.pop("user", "")
        return Endpoint(
            self.family,
            self.address,
            self.port,
            "snmp",
            user,
            Secret(secret),
            options={"family": self.family} | options,
        )


def _config(folder: Path, family: str) -> dict[str, Any]:
    spec = PduSpec("pdu-test", family, OUTLETS)
    outlets = {}
    for n in OUTLETS:
        path = folder / "outlets" / str(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("1\n")
        outlets[n] = {"path": str(path), "phase": f"L{(n - 1) % 3 + 1}", "volts": 240.0, "bank": spec.bank_of(n)}
    load = {"name": "load", "draw_w": DRAW_W, "paths": [outlets[1]["path"], outlets[2]["path"]]}
    return {"lab": "", "pdu": "pdu-test", "cycle_delay_s": 0.5, "outlets": outlets, "devices": [load], "nodes": {}}


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Agent]]:
    root = tmp_path_factory.mktemp("pdu-agents")
    port = snmp.agent_port()
    started: dict[str, Agent] = {}
    try:
        for family, address in zip(FAMILIES, free_loopback(PDU_NET, len(FAMILIES), port), strict=True):
            folder = root / family
            walk = snmprec(PduSpec("pdu-test", family, OUTLETS, {1: "load PSU1"}, serial=f"SN-{family}"))
            pid = snmp.serve(folder, address, port, COMMUNITY, walk, _config(folder, family), V3)
            started[family] = Agent(family, address, port, folder, pid)
        silent = snmp.wait_answering([(a.address, a.port, COMMUNITY) for a in started.values()])
        assert not silent, f"snmpsim did not answer on {silent}: see {root}/*/snmpsim.log"
        yield started
    finally:
        processes.stop([a.pid for a in started.values()])


@pytest.fixture(params=FAMILIES)
def agent(request: pytest.FixtureRequest, agents: dict[str, Agent]) -> Iterator[Agent]:
    found = agents[request.param]
    yield found
    (found.folder / "locked").unlink(missing_ok=True)
    for n in OUTLETS:
        (found.folder / "outlets" / str(n)).write_text("1\n")


def _pdu(agent: Agent, **options: Any) -> SnmpPdu:
    return SnmpPdu(agent.endpoint(**options))


def test_the_driver_claims_its_capabilities(agent: Agent) -> None:
    pdu = _pdu(agent)
    assert isinstance(pdu, OutletControl) and isinstance(pdu, PduMeter)


def test_identity(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        ident = pdu.identity()
    assert ident.serial == f"SN-{agent.family}"
    assert ident.model and ident.firmware and ident.manufacturer


def test_outlets_are_found_by_walking(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        outlets = pdu.outlets()
    assert [o.number for o in outlets] == list(OUTLETS)
    assert {o.state for o in outlets} == {PowerState.ON}
    assert outlets[0].name == "load PSU1" and not outlets[0].problem


def test_a_switched_outlet_reads_back(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        pdu.set_outlet(5, PowerAction.OFF)
        assert [o.state for o in pdu.outlets([4, 5])] == [PowerState.ON, PowerState.OFF]
        pdu.set_outlet(5, PowerAction.ON)
        assert pdu.outlets([5])[0].state == PowerState.ON


def test_cycle_uses_the_familys_own_command(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        pdu.set_outlet(6, PowerAction.CYCLE)
        assert pdu.outlets([6])[0].state == PowerState.OFF  # dark for the PDU's cycle delay
        assert processes.wait_for(lambda: pdu.outlets([6])[0].state == PowerState.ON, 5.0)


def test_readings_follow_the_load_in_each_mibs_units(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        readings = pdu.readings()
    outlets = {m.number: m for m in readings.outlets}
    assert outlets[1].current_a == pytest.approx(700 / 240, abs=0.05) and outlets[1].name == "load PSU1"
    assert outlets[3].current_a == 0
    phases = {m.number: m for m in readings.phases}
    assert set(phases) == {1, 2, 3}
    assert phases[1].current_a == pytest.approx(700 / 240, abs=0.05)
    assert readings.load_w == pytest.approx(1400, abs=15)
    if agent.family in ("apc", "raritan", "servertech"):  # banks: APC banks, Raritan OCPs, Sentry4 branches
        assert readings.banks[0].current_a == pytest.approx(1400 / 240, abs=0.05)  # outlets 1 and 2: bank 1


def test_raritan_over_current_protectors_are_breakers_with_their_ratings(agents: dict[str, Agent]) -> None:
    with _pdu(agents["raritan"]) as pdu:
        probe = pdu.probe()
    # overCurrentProtectorLabel C1..C6 and overCurrentProtectorRatedCurrent "20A" in the lab's PDU2-MIB walk
    assert probe.banks == 6 and probe.breakers == {f"C{b}": 20.0 for b in range(1, 7)}


def test_readings_drop_when_an_outlet_goes_off(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        pdu.set_outlet(2, PowerAction.OFF)
        outlets: dict[int, Any] = {}

        def dropped() -> bool:  # the simulator recomputes its loads in its own time: wait for it, not a margin
            outlets.update({m.number: m for m in pdu.readings().outlets})
            return outlets[2].current_a == 0

        assert processes.wait_for(dropped, timeout=60, interval=0.1), outlets[2]
    assert outlets[1].current_a == pytest.approx(1400 / 240, abs=0.05)  # the device's other PSU carries it all


def test_snmpv3(agent: Agent) -> None:
    v3 = {"version": "3", "user": V3.name, "priv_key": Secret(V3.priv_key), "context": COMMUNITY}
    with _pdu(agent, secret=V3.auth_key, **v3) as pdu:
        assert pdu.outlets([1])[0].state == PowerState.ON
    with (
        pytest.raises(AuthError, match="refused the SNMPv3 credentials"),
        _pdu(agent, secret="wrong-secret-1", **v3) as pdu,
    ):
        pdu.outlets([1])


def test_a_refused_command_is_an_error_of_that_outlet(agent: Agent) -> None:
    (agent.folder / "locked").write_text("7\n")
    with _pdu(agent) as pdu:
        with pytest.raises(CommandError, match="refused the request"):
            pdu.set_outlet(7, PowerAction.OFF)
        pdu.set_outlet(8, PowerAction.OFF)
        assert [o.state for o in pdu.outlets([7, 8])] == [PowerState.ON, PowerState.OFF]


def test_an_outlet_the_pdu_lacks(agent: Agent) -> None:
    with _pdu(agent) as pdu:
        (missing,) = pdu.outlets([40])
    assert missing.state == PowerState.UNKNOWN and missing.problem == "the PDU has no such outlet"


def test_a_frozen_agent_times_out(agents: dict[str, Agent]) -> None:
    agent = agents["raritan"]
    os.kill(agent.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(Timeout, match="no answer from the agent"), _pdu(agent, timeout=0.5, retries=1) as pdu:
            pdu.outlets([1])
        # A bound, not a margin: two 0.5 s attempts end, they do not hang on the frozen agent.
        assert time.monotonic() - started < 60
    finally:
        os.kill(agent.pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def bad_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    folder = tmp_path_factory.mktemp("pdu-bad")
    port = snmp.agent_port()
    (address,) = free_loopback(PDU_NET, 1, port)
    pid = snmp.serve(folder, address, port, COMMUNITY, (DATA / "raritan-bad-answers.snmprec").read_text())
    try:
        assert not snmp.wait_answering([(address, port, COMMUNITY)])
        yield Agent("raritan", address, port, folder, pid)
    finally:
        processes.stop([pid])


def test_bad_answers_fail_their_outlets_only(
    bad_agent: Agent, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", COMMUNITY)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    moved = cli("device", "set", "pdu-r12-a1", "--mgmt-address", bad_agent.address, "--mgmt-port", str(bad_agent.port))
    assert moved.exit_code == 0, moved.stderr
    result = cli("pdu", "status", "pdu-r12-a1:1-4", "--json")
    assert result.exit_code == 1
    out = {r["target"]: r for r in result.json()}
    assert out["pdu-r12-a1:1"]["ok"] and out["pdu-r12-a1:1"]["value"]["state"] == "on"
    assert "unexpected outlet state 99 (PDU2-MIB" in out["pdu-r12-a1:2"]["error"]
    assert "unexpected outlet state 'on'" in out["pdu-r12-a1:3"]["error"]
    assert out["pdu-r12-a1:4"]["error"] == "the PDU has no such outlet"
    readings = cli("pdu", "readings", "pdu-r12-a1", "--json")
    assert readings.exit_code == 1, readings.stderr  # values it cannot read are errors, not zeros
    (report,) = readings.json()
    assert report["ok"], report["error"]
    meters = {m["number"]: m for m in report["value"]["readings"]["meters"] if m["level"] == "outlet"}
    assert meters[1]["current_a"] is None and meters[1]["power_w"] is None
    assert report["value"]["problems"] == [
        "outlet 1: current: unusable decimal digits 17",
        "outlet 1: power: unreadable value 'n/a'",
        "outlet 2: current: unreadable value 'unavailable'",
    ]
    assert report["value"]["identity"]["model"] == "PX2-4724" and report["value"]["identity"]["serial"] == ""
    assert json.loads(cli("log", "--kind", "operation", "--json").stdout)[0]["command"] == "pdu status pdu-r12-a1:1-4"
