"""`rackctl demo`: the whole story on a simulated rack, in a scratch inventory that is removed after.

Every step runs the real `rackctl` command a technician would type, against real simulators (ipmi_sim
BMCs, snmpsim PDUs, SSH hosts in network namespaces), and everything is torn down at the end, also
when a step fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from rackctl.cli import complete, output

DEMO_NODE = "gpu-r12-u11"


def _steps(template: str) -> list[tuple[str, list[str], bool]]:
    """(title, rackctl arguments, whether a non-zero exit is part of the story)."""
    return [
        ("Create the inventory and import the shipped device types", ["init"], False),
        ("Add a site", ["site", "add", "demo-site", "--description", "simulated colocation cage"], False),
        (f"Create rack r12 from the {template} template", ["rack", "create", "r12", "-t", template, "-s", "demo-site"],
         False),
        ("Bring the lab up: simulated BMCs, PDUs and hosts for every device", ["lab", "up", "r12"], False),
        ("Validate space, power, A/B redundancy, cooling, cabling", ["validate", "@rack:r12", "--failures"], False),
        ("The rack, U by U", ["rack", "show", "r12"], False),
        ("The power-on plan: waves within the PDUs' and feeds' budgets", ["power", "on", "@rack:r12", "--sequence",
                                                                          "--dry-run"], False),
        ("Power the rack on in sequence", ["power", "on", "@rack:r12", "--sequence"], False),
        ("Power status", ["power", "status", "@role:gpu-node"], False),
        ("Sensors", ["sensors", "@role:gpu-node"], False),
        ("Firmware against the profile's baseline (IPMI reports the BMC's own version only)",
         ["firmware", "plan", "@role:gpu-node"], False),
        (f"A BMC hangs ({DEMO_NODE})", ["lab", "fault", DEMO_NODE, "bmc-dead"], False),
        ("Power status: the hung BMC is reported, the others are fine", ["power", "status", "@role:gpu-node",
                                                                          "--timeout", "3"], True),
        ("Remote hands: power-cycle the node at its PDU outlets (A and B)", ["power", "cycle", DEMO_NODE, "--via",
                                                                             "pdu", "--yes"], False),
        ("Power status: the BMC answers again", ["power", "status", "@role:gpu-node"], False),
        ("What happened, from the operation log", ["log", "--limit", "8"], False),
    ]  # fmt: skip


def demo(
    template: Annotated[
        str, typer.Option("--template", "-t", autocompletion=complete.templates, help="Rack template to build.")
    ] = "h100-4node-air",
    keep: Annotated[Path | None, typer.Option(help="Keep the scratch inventory in this folder.")] = None,
) -> None:
    """Build a rack from a template, bring up its simulators, power it on in sequence, recover a hung BMC at the
    PDU, then tear everything down (nothing of yours is touched; under two minutes)."""
    folder = keep or Path(tempfile.mkdtemp(prefix="rackctl-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RACKCTL_DB_URL": f"sqlite:///{folder / 'inventory.db'}",
           "RACKCTL_STATE_DIR": str(folder / "state"), "RACKCTL_CONFIG": str(folder / "none.toml"),
           # the lab's secrets go to a secret folder of the demo's own, configured like any other
           "RACKCTL_SECRET_DIRS": str(folder / "secrets"),
           "RACKCTL_ACTOR": os.environ.get("RACKCTL_ACTOR", "demo")}  # fmt: skip
    started = time.monotonic()
    try:
        for title, args, may_fail in _steps(template):
            output.line(f"\n== {title}\n$ rackctl {' '.join(args)}")
            run_step(args, env, allow_failure=may_fail)
    finally:
        output.line("\n== Tear the lab down\n$ rackctl lab down")
        run_step(["lab", "down"], env, allow_failure=True)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    output.line(f"\ndemo finished in {time.monotonic() - started:.0f}s; nothing is left running")


def run_step(args: list[str], env: dict[str, str], allow_failure: bool = False) -> int:
    """Run one rackctl command as a user would, its output going straight to the terminal."""
    sys.stdout.flush()
    code = subprocess.call([sys.executable, "-m", "rackctl", *args], env=env)
    if code != 0 and not allow_failure:
        output.error(f"demo step failed: rackctl {' '.join(args)} (exit {code})")
        raise typer.Exit(code)
    return code
