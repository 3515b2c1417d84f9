"""What a simulated node feels when a PDU outlet changes: the physics between PDU and BMC.

A PSU whose outlet goes off loses input (its status sensor says so, and the BMC logs the event). A
node whose outlets are all off has no standby power: its BMC stops answering, and its chassis reads
off. When power returns the BMC boots again, and the chassis comes back in its last state (the usual
"restore on AC power loss: last state" setting), which also clears a hung BMC. The PDU simulator calls
`outlet_changed` for every outlet it switches.
"""

from __future__ import annotations

from pathlib import Path

from rackctl.lab import ipmi, processes, state
from rackctl.lab.faults import CLEARED_BY_POWER_LOSS
from rackctl.lab.state import LabState, SimulatedBmc


def outlet_is_on(path: str) -> bool:
    try:
        return Path(path).read_text().strip() == "1"
    except OSError:
        return False


def outlet_changed(lab_folder: Path, outlet_path: str, on: bool) -> list[str]:
    """Set one outlet and let every node it feeds react; returns the nodes affected."""
    with state.locked(lab_folder) as lab:
        if lab is None:
            return []
        Path(outlet_path).parent.mkdir(parents=True, exist_ok=True)
        Path(outlet_path).write_text("1\n" if on else "0\n")
        affected = [bmc for bmc in lab.bmcs.values() if outlet_path in ipmi.read_wiring(Path(bmc.folder))[1].values()]
        for bmc in affected:
            _react(lab, bmc, outlet_path, on)
        state.save(lab)
        return [b.device for b in affected]


def _react(lab: LabState, bmc: SimulatedBmc, outlet_path: str, on: bool) -> None:
    psus, wiring = ipmi.read_wiring(Path(bmc.folder))
    powered = any(outlet_is_on(path) for path in wiring.values())
    running = bool(bmc.pid) and processes.alive(bmc.pid)
    if not powered:
        if running:
            processes.stop([bmc.pid])
        bmc.pid = 0
        return
    if not running:
        _boot_bmc(lab, bmc)
        return
    if processes.stopped(bmc.pid):
        return  # a hung BMC takes no sensor updates; its console would only cost us the timeout
    for name, path in wiring.items():
        if path == outlet_path:
            ipmi.psu_input(bmc.address, psus.index(name), on)


def _boot_bmc(lab: LabState, bmc: SimulatedBmc) -> None:
    """Standby power is back: the BMC starts fresh and reports the PSUs still without input."""
    if lab.faults.get(bmc.device) in CLEARED_BY_POWER_LOSS:
        lab.faults.pop(bmc.device)  # a hung or slow BMC starts fresh; a miswiring or a bad PSU stays
    folder = Path(bmc.folder)
    (folder / "slow").unlink(missing_ok=True)
    bmc.pid = ipmi.start(folder)
    if ipmi.wait_answering([bmc.address], timeout=10):
        return
    psus, wiring = ipmi.read_wiring(folder)
    for name, path in wiring.items():
        if not outlet_is_on(path):
            ipmi.psu_input(bmc.address, psus.index(name), False)
