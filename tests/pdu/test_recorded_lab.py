"""One lab PDU per switched family, served from a real recorded walk (lab/recorded.py) whose outlet
state and commands are live: the same contract for every family. Detection and identity, every
meter level the recording has, outlets switched on, off and through a cycle and read back, a refused
command, an agent that stops answering, an outlet the PDU lacks."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rackctl.drivers.pdu_snmp import SnmpPdu
from rackctl.errors import CommandError, Timeout, Unsupported
from rackctl.lab import processes, recorded, snmp
from rackctl.lab.plan import PDU_NET, free_loopback
from rackctl.types import Endpoint, PowerAction, PowerState, Secret

from .test_recorded_walks import WALKS

COMMUNITY = "rackctl-recorded"
EVERY = sorted(recorded.LAB_WALKS)
SWITCHED = [name for name in EVERY if name != "apc-isx"]  # ISX: metering only, no switched outlets


@dataclass(frozen=True)
class LabPdu:
    family: str
    address: str
    port: int
    folder: Path
    pid: int

    def driver(self, **options: Any) -> SnmpPdu:
        options = {"family": self.family, "timeout": 2} | options
        return SnmpPdu(Endpoint(self.family, self.address, self.port, "snmp", "", Secret(COMMUNITY), options=options))


@pytest.fixture(scope="module")
def lab_pdus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LabPdu]]:
    root = tmp_path_factory.mktemp("recorded-lab")
    port = snmp.agent_port()
    started: dict[str, LabPdu] = {}
    try:
        for family, address in zip(EVERY, free_loopback(PDU_NET, len(EVERY), port), strict=True):
            folder = root / family
            text, config = recorded.lab_pdu(family, folder)
            pid = snmp.serve(folder, address, port, COMMUNITY, text, config)
            started[family] = LabPdu(family, address, port, folder, pid)
        pids = {p.address: p.pid for p in started.values()}  # the lab's bound; a dead simulator given up at once
        silent = snmp.wait_answering(
            [(p.address, p.port, COMMUNITY) for p in started.values()], running=lambda a: processes.alive(pids[a])
        )
        assert not silent, f"snmpsim did not answer on {silent}: see {root}/*/snmpsim.log"
        yield started
    finally:
        processes.stop([p.pid for p in started.values()])


def _reset(found: LabPdu) -> None:
    (found.folder / "locked").unlink(missing_ok=True)
    for path in (found.folder / "outlets").iterdir() if (found.folder / "outlets").is_dir() else ():
        path.write_text("1\n")


@pytest.fixture(params=SWITCHED)
def pdu(request: pytest.FixtureRequest, lab_pdus: dict[str, LabPdu]) -> Iterator[LabPdu]:
    yield lab_pdus[request.param]
    _reset(lab_pdus[request.param])


@pytest.fixture(params=EVERY)
def any_pdu(request: pytest.FixtureRequest, lab_pdus: dict[str, LabPdu]) -> Iterator[LabPdu]:
    yield lab_pdus[request.param]
    _reset(lab_pdus[request.param])


def test_detection_identity_and_every_meter_level(pdu: LabPdu) -> None:
    walk = recorded.LAB_WALKS[pdu.family].split("/")[1]
    with pdu.driver(family=WALKS[walk].platform) as driver:
        probe = driver.probe()
        readings = driver.readings()
    assert probe.family == pdu.family and probe.switched and probe.outlets >= 8
    counts = {level: len(readings.level(level)) for level in WALKS[walk].levels}
    assert counts == WALKS[walk].levels  # every level the recording meters, as recorded


def test_outlets_switch_and_read_back(pdu: LabPdu) -> None:
    with pdu.driver() as driver:
        outlets = driver.outlets()
        assert {o.state for o in outlets} == {PowerState.ON} and outlets[0].number == 1
        driver.set_outlet(2, PowerAction.OFF)
        assert [o.state for o in driver.outlets([1, 2])] == [PowerState.ON, PowerState.OFF]
        driver.set_outlet(2, PowerAction.ON)
        assert driver.outlets([2])[0].state == PowerState.ON


def test_a_cycle_goes_dark_and_comes_back(pdu: LabPdu) -> None:
    with pdu.driver() as driver:
        driver.set_outlet(3, PowerAction.CYCLE)
        assert driver.outlets([3])[0].state == PowerState.OFF
        assert processes.wait_for(lambda: driver.outlets([3])[0].state == PowerState.ON, 10.0)


def test_a_refused_command_is_an_error_and_changes_nothing(pdu: LabPdu) -> None:
    (pdu.folder / "locked").write_text("4\n")
    with pdu.driver() as driver:
        with pytest.raises(CommandError, match="refused the request"):
            driver.set_outlet(4, PowerAction.OFF)
        assert driver.outlets([4])[0].state == PowerState.ON


def test_an_outlet_the_pdu_lacks(pdu: LabPdu) -> None:
    with pdu.driver() as driver:
        (missing,) = driver.outlets([999])
        assert missing.state == PowerState.UNKNOWN and missing.problem == "the PDU has no such outlet"
        with pytest.raises(CommandError, match="has no outlet 999"):
            driver.set_outlet(999, PowerAction.OFF)


def test_a_pdu_that_stops_answering_times_out(any_pdu: LabPdu) -> None:
    os.kill(any_pdu.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(Timeout, match="no answer from the agent"), any_pdu.driver(timeout=0.3, retries=0) as driver:
            driver.readings()
        # A bound for a hang, not a timing margin: the first unanswered 0.3 s request ends the read.
        assert time.monotonic() - started < 30
    finally:
        os.kill(any_pdu.pid, signal.SIGCONT)


def test_a_pdu_without_switched_outlets_refuses_to_switch(lab_pdus: dict[str, LabPdu]) -> None:
    """APC InfraStruXure PDUs meter; PowerNet-MIB's xPDU group has no outlet control: said, not faked."""
    isx = lab_pdus["apc-isx"]
    walk = recorded.LAB_WALKS["apc-isx"].split("/")[1]
    with isx.driver(family="auto") as driver:
        probe = driver.probe()
        assert probe.family == "apc-isx" and probe.metered and not probe.switched and probe.outlets == 0
        assert {level: len(driver.readings().level(level)) for level in WALKS[walk].levels} == WALKS[walk].levels
        with pytest.raises(Unsupported, match="has no switched outlets"):
            driver.outlets([1])
        with pytest.raises(Unsupported, match="has no switched outlets"):
            driver.set_outlet(1, PowerAction.OFF)
