"""Daisy chains switched unit by unit: a device's `options.unit` picks its unit's outlets, and the
same outlet number on the other unit is left alone. No public recording holds a chain's outlet rows,
so the two-unit walks here are written from the MIBs (switching data only, no measured values):
APC rPDU2 numbers its rows across the chain and names each row's unit in rPDU2OutletSwitchedStatusModule;
Raritan PDU2-MIB puts the unit (pduId) first in every index. The outlet state and commands are the
lab's live records (lab/recorded.py), so a SET really switches the outlet and the state reads back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rackctl.drivers.pdu_snmp import SnmpPdu
from rackctl.errors import CommandError
from rackctl.lab import processes, recorded, snmp
from rackctl.lab.plan import PDU_NET, free_loopback
from rackctl.types import Endpoint, PowerAction, PowerState, Secret

COMMUNITY = "rackctl-chain"
APC = "1.3.6.1.4.1.318.1.1.26.9.2.3.1"  # rPDU2OutletSwitchedStatusEntry: .2 Module, .3 Name, .4 Number, .5 State
RARITAN = "1.3.6.1.4.1.13742.6"  # PDU2-MIB: outletName 3.5.3.1.3, outletSwitchingState 4.1.2.1.3


def _apc_chain() -> str:
    """Two AP8xxx of three outlets each: rows 1-3 are module 1's outlets 1-3, rows 4-6 module 2's."""
    rows = [(row, 1 + (row - 1) // 3, 1 + (row - 1) % 3) for row in range(1, 7)]
    lines = ["1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.318.1.3.4.6", "1.3.6.1.4.1.318.1.1.26.2.1.1.1|2|1"]
    lines += [f"{APC}.2.{row}|2|{module}" for row, module, _ in rows]
    lines += [f"{APC}.3.{row}|4|unit{module} outlet{n}" for row, module, n in rows]
    lines += [f"{APC}.4.{row}|2|{n}" for row, _, n in rows]
    lines += [f"{APC}.5.{row}|2|2" for row, _, _ in rows]  # outletStatusOn(2)
    return "\n".join(lines) + "\n"


def _raritan_chain() -> str:
    """A PX3 with a second PX3 chained behind it (pduId 2), three outlets each."""
    units = [(pdu, n) for pdu in (1, 2) for n in (1, 2, 3)]
    lines = ["1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.13742.6", f"{RARITAN}.3.2.1.1.3.1|4|PX3", f"{RARITAN}.3.2.1.1.3.2|4|PX3"]
    lines += [f"{RARITAN}.3.3.3.1.2.{pdu}.1|4|I1" for pdu in (1, 2)]
    lines += [f"{RARITAN}.3.5.3.1.3.{pdu}.{n}|4|unit{pdu} outlet{n}" for pdu, n in units]
    lines += [f"{RARITAN}.4.1.2.1.3.{pdu}.{n}|2|7" for pdu, n in units]  # on(7)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Chain:
    family: str
    address: str
    port: int
    folder: Path

    def driver(self, unit: int, **options: Any) -> SnmpPdu:
        options = {"family": "auto", "unit": unit, "timeout": 2} | options
        return SnmpPdu(Endpoint(self.family, self.address, self.port, "snmp", "", Secret(COMMUNITY), options=options))


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Chain]]:
    root = tmp_path_factory.mktemp("pdu-chains")
    (root / "walks" / "mib").mkdir(parents=True)
    walks = {"apc": _apc_chain(), "raritan": _raritan_chain()}
    served: dict[str, tuple[str, dict[str, Any]]] = {}
    with pytest.MonkeyPatch.context() as env:  # lab_pdu reads the walk from RACKCTL_PDU_WALKS
        env.setenv("RACKCTL_PDU_WALKS", str(root / "walks"))
        for family, walk in walks.items():
            (root / "walks" / "mib" / f"{family}.snmprec").write_text(walk)
            served[family] = recorded.lab_pdu(family, root / family, walk=f"mib/{family}")
    port = snmp.agent_port()
    pids: list[int] = []
    started: dict[str, Chain] = {}
    try:
        for (family, (text, config)), address in zip(served.items(), free_loopback(PDU_NET, 2, port), strict=True):
            pids.append(snmp.serve(root / family, address, port, COMMUNITY, text, config))
            started[family] = Chain(family, address, port, root / family)
        alive = dict(zip((c.address for c in started.values()), pids, strict=True))  # the lab's bound; dead: at once
        silent = snmp.wait_answering(
            [(c.address, c.port, COMMUNITY) for c in started.values()], running=lambda a: processes.alive(alive[a])
        )
        assert not silent, f"snmpsim did not answer on {silent}: see {root}/*/snmpsim.log"
        yield started
    finally:
        processes.stop(pids)


@pytest.fixture(params=["apc", "raritan"])
def chain(request: pytest.FixtureRequest, chains: dict[str, Chain]) -> Iterator[Chain]:
    yield chains[request.param]
    for path in (chains[request.param].folder / "outlets").iterdir():
        path.write_text("1\n")


def test_each_unit_lists_its_own_outlets(chain: Chain) -> None:
    for unit in (1, 2):
        with chain.driver(unit) as pdu:
            outlets = pdu.outlets()
            assert pdu.family.name == chain.family
        assert [(o.number, o.name, o.state) for o in outlets] == [
            (n, f"unit{unit} outlet{n}", PowerState.ON) for n in (1, 2, 3)
        ]


def test_switching_a_chained_units_outlet_leaves_the_other_units_alone(chain: Chain) -> None:
    with chain.driver(2) as second, chain.driver(1) as first:
        second.set_outlet(3, PowerAction.OFF)
        assert [o.state for o in second.outlets()] == [PowerState.ON, PowerState.ON, PowerState.OFF]
        assert [o.state for o in first.outlets()] == [PowerState.ON] * 3
        second.set_outlet(3, PowerAction.ON)
        assert second.outlets([3])[0].state == PowerState.ON


def test_a_unit_the_chain_lacks_has_no_outlets(chain: Chain) -> None:
    with chain.driver(3) as pdu:
        with pytest.raises(CommandError, match="reports no outlets"):
            pdu.outlets()
        with pytest.raises(CommandError, match="has no outlet 1"):
            pdu.set_outlet(1, PowerAction.OFF)
