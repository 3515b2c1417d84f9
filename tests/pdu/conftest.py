"""A simulated H100 rack (four ipmi_sim BMCs, four snmpsim Raritan PDUs) for the whole session, and a
`lab` fixture that puts it back as it was after each test: faults cleared, every outlet on, every
BMC answering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackctl.cli import output
from rackctl.cli.app import app
from rackctl.lab import ipmi, snmp, state, wiring

PDUS = "pdu-r12-a1,pdu-r12-a2,pdu-r12-b1,pdu-r12-b2"
NODES = ("gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27")
# verify-feeds in these tests: a whole sensor repository read through a busy ipmi_sim, and a BMC seeing an outlet
# change, take longer than the defaults on a loaded machine (30 s failed under stress-ng); both bound conditions.
UNDER_LOAD = ("--timeout", "120", "--settle", "120")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@dataclass
class RackLab:
    folder: Path  # the lab's state folder
    env: dict[str, str]

    def __call__(self, *args: str) -> Run:
        """Run `rackctl ARGS` in-process against the lab's inventory."""
        output.reset()
        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        output.reset()
        return Run(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> Run:
        result = self(*args)
        assert result.exit_code == 0, f"rackctl {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    def bmc_pid(self, node: str) -> int:
        lab = state.load(self.folder)
        assert lab is not None
        return lab.bmcs[node].pid


@pytest.fixture(scope="session")
def rack_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RackLab]:
    root = tmp_path_factory.mktemp("rack-lab")
    env = {
        "RACKCTL_DB_URL": f"sqlite:///{root / 'inventory.db'}",
        "RACKCTL_STATE_DIR": str(root / "state"),
        "RACKCTL_CONFIG": str(root / "no-config.toml"),
        "RACKCTL_ACTOR": "tester",
        "RACKCTL_BMC_PASSWORD": "unused",  # the lab points the inventory at its own secret files
    }
    lab = RackLab(root / "state" / "lab" / "default", env)
    lab.ok("init")
    lab.ok("site", "add", "fra1")
    lab.ok("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    lab.ok("lab", "up", "--no-hosts")
    try:
        yield lab
    finally:
        lab.ok("lab", "down")
    left = [pid for pid, argv in _processes() if str(root) in argv]
    assert not left, f"lab down left processes running: {left}"


def _processes() -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except OSError:
                continue  # gone meanwhile
    return found


def reset(lab: RackLab) -> None:
    """Every fault cleared, every outlet on, every BMC answering."""
    state_now = state.load(lab.folder)
    assert state_now is not None
    for pdu in state_now.pdus:
        snmp.pdu_hung(lab.folder, pdu, hung=False)
        snmp.pdu_locked(lab.folder, pdu, locked=False)
        snmp.pdu_extra_load(lab.folder, pdu, 0)
        snmp.pdu_late(lab.folder, pdu, 0)
    for node in NODES:
        wiring.outlet_rewired(lab.folder, node)
    lab.ok("pdu", "on", PDUS, "--wait", "60")
    addresses = [b.address for b in state_now.bmcs.values()]
    # Waits until every BMC answers; the ceiling is for a broken lab, not a loaded machine (a 30 s
    # margin failed on a busy 2-core machine: issue 16).
    assert not ipmi.wait_answering(addresses, timeout=300), "BMCs did not come back"


@pytest.fixture
def lab(rack_lab: RackLab) -> Iterator[RackLab]:
    yield rack_lab
    reset(rack_lab)
