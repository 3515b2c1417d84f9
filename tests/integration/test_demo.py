"""`rackctl demo`, the README's first command: the whole story on a simulated rack, and nothing left after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _lab_processes(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in argv:
                found.append(argv)
    return found


def test_the_demo_runs_end_to_end_and_leaves_nothing_running(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the demo's scratch folder lands here
    done = subprocess.run(
        [sys.executable, "-m", "rackctl", "demo"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for step in (
        "Power the rack on in sequence",
        "Remote hands: power-cycle the node at its PDU outlets",
        "Power status: the BMC answers again",
        "nothing is left running",
    ):
        assert step in done.stdout
    assert "off, then on: cycled for gpu-r12-u11" in done.stdout
    # the firmware-baseline step: every node's BMC against the profile's bmc_firmware (1.02.04), compared as far as
    # IPMI's Get Device ID reports it (major.minor)
    firmware = done.stdout.split("$ rackctl firmware plan @role:gpu-node", 1)[1].split("\n== ", 1)[0]
    assert firmware.count("1.02.04") == 4 and "at the baseline" in firmware and "4 of 4 succeeded" in firmware
    assert _lab_processes(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []  # the scratch inventory and lab state are gone too
