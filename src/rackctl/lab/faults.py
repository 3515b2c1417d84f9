"""Faults a technician can rehearse against and tests can inject: each has an undo in `heal`.

bmc-dead        the BMC stops answering (a hung ipmi_sim, a Redfish address that went away)
bmc-slow        every answer is delayed by SLOW_S seconds
wrong-password  the BMC refuses the credentials the inventory holds
psu-fail        PSU1 reports a failure (and the SEL records it)
outlet-miswired two of the node's power cords swapped at the PDU; the inventory keeps the plan
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from rackctl.lab import ipmi, processes, state, wiring
from rackctl.lab.processes import LabError
from rackctl.lab.state import LabState, SimulatedBmc

SLOW_S = 3
FAULTS = ("bmc-dead", "bmc-slow", "wrong-password", "psu-fail", "outlet-miswired")
CLEARED_BY_POWER_LOSS = frozenset({"bmc-dead", "bmc-slow"})  # a BMC that boots again is healthy


def _signal(bmc: SimulatedBmc, sig: signal.Signals) -> None:
    if bmc.pid and processes.alive(bmc.pid):
        os.kill(bmc.pid, sig)


def _restart_ipmi(bmc: SimulatedBmc) -> None:
    processes.stop([bmc.pid])
    bmc.pid = ipmi.start(Path(bmc.folder))
    if ipmi.wait_answering([bmc.address], timeout=10):
        raise LabError(f"the simulated BMC of {bmc.device} did not come back")


def _set_password(bmc: SimulatedBmc, password: str) -> None:
    conf = Path(bmc.folder) / "lan.conf"
    lines = conf.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("user 2 "):
            parts = line.split('"')
            parts[3] = password
            lines[index] = '"'.join(parts)
    conf.write_text("\n".join(lines) + "\n")
    _restart_ipmi(bmc)


def _flag(bmc: SimulatedBmc, name: str, value: str | None) -> None:
    path = Path(bmc.folder) / name
    if value is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(value)


def _inject(lab: LabState, bmc: SimulatedBmc, fault: str) -> None:
    ipmi_bmc = bmc.kind == "ipmi"
    actions: dict[str, Callable[[], object]] = {
        "bmc-dead": (lambda: _signal(bmc, signal.SIGSTOP)) if ipmi_bmc else (lambda: _flag(bmc, "dead", "")),
        "bmc-slow": lambda: _flag(bmc, "slow", str(SLOW_S)),
        "wrong-password": (lambda: _set_password(bmc, "not-" + _password(lab)))
        if ipmi_bmc
        else (lambda: _flag(bmc, "wrong-password", "")),
        "psu-fail": lambda: _psu_fail(bmc, True),
        "outlet-miswired": lambda: wiring.outlet_miswired(lab.folder, bmc.device),
    }
    actions[fault]()


def _heal(lab: LabState, bmc: SimulatedBmc, fault: str) -> None:
    ipmi_bmc = bmc.kind == "ipmi"
    actions: dict[str, Callable[[], object]] = {
        "bmc-dead": (lambda: _signal(bmc, signal.SIGCONT)) if ipmi_bmc else (lambda: _flag(bmc, "dead", None)),
        "bmc-slow": lambda: _flag(bmc, "slow", None),
        "wrong-password": (lambda: _set_password(bmc, _password(lab)))
        if ipmi_bmc
        else (lambda: _flag(bmc, "wrong-password", None)),
        "psu-fail": lambda: _psu_fail(bmc, False),
        "outlet-miswired": lambda: wiring.outlet_rewired(lab.folder, bmc.device),
    }
    actions[fault]()


def _psu_fail(bmc: SimulatedBmc, failed: bool) -> None:
    if bmc.kind != "ipmi":
        raise LabError(f"psu-fail needs an IPMI BMC; {bmc.device} is simulated over {bmc.kind}")
    ipmi.psu_failure(bmc.address, 0, failed)


def _password(lab: LabState) -> str:
    return (Path(lab.secret_folder) / "bmc-password").read_text().strip()


def inject(lab_folder: Path, device: str, fault: str) -> None:
    """Give a simulated device a fault (one at a time per device)."""
    if fault not in FAULTS:
        raise LabError(f"unknown fault '{fault}'", hint="one of: " + ", ".join(FAULTS))
    with state.locked(lab_folder) as lab:
        bmc = _bmc(lab, device)
        assert lab is not None
        if device in lab.faults:
            _heal(lab, bmc, lab.faults.pop(device))
        _inject(lab, bmc, fault)
        lab.faults[device] = fault
        state.save(lab)
    time.sleep(0.3 if fault in ("bmc-dead",) and bmc.kind == "redfish" else 0)  # the listener notices its flag


def heal(lab_folder: Path, device: str | None = None) -> list[str]:
    """Undo the faults of one device, or of every device; returns the devices healed."""
    with state.locked(lab_folder) as lab:
        if lab is None:
            raise LabError("no lab is up")
        healed = [d for d in list(lab.faults) if device in (None, d)]
        for name in healed:
            _heal(lab, _bmc(lab, name), lab.faults.pop(name))
        state.save(lab)
    return healed


def _bmc(lab: LabState | None, device: str) -> SimulatedBmc:
    if lab is None:
        raise LabError("no lab is up")
    if device not in lab.bmcs:
        raise LabError(f"{device} has no simulated BMC in this lab")
    return lab.bmcs[device]
