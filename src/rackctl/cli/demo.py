"""`rackctl demo`: the whole story on a simulated rack, in a scratch inventory that is removed after."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from rackctl.cli import output


def demo(
    template: Annotated[str, typer.Option("--template", "-t", help="Rack template to build.")] = "h100-4node-air",
    keep: Annotated[Path | None, typer.Option(help="Keep the scratch inventory in this folder.")] = None,
) -> None:
    """Create an inventory from a rack template, validate it and draw it (nothing else is touched)."""
    folder = keep or Path(tempfile.mkdtemp(prefix="rackctl-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / 'inventory.db'}"
    steps = [
        ("Create the inventory", ["init"]),
        ("Add a site", ["site", "add", "demo-site", "--description", "simulated colocation cage"]),
        (
            f"Create rack r12 from {template}",
            ["rack", "create", "r12", "--template", template, "--site", "demo-site"],
        ),
        ("Validate space, power, redundancy, cooling, cabling", ["validate", "@rack:r12", "--failures"]),
        ("The rack, U by U", ["rack", "show", "r12"]),
    ]
    for title, args in steps:
        output.line(f"\n== {title}: rackctl {' '.join(args)}")
        run_step(["--db", db, *args], allow_failure=args[0] == "validate")
    if keep is None:
        shutil.rmtree(folder, ignore_errors=True)


def run_step(args: list[str], allow_failure: bool = False) -> int:
    """Run one rackctl command as a user would, its output going straight to the terminal."""
    sys.stdout.flush()
    code = subprocess.call([sys.executable, "-m", "rackctl", *args])
    if code != 0 and not allow_failure:
        output.error(f"demo step failed: rackctl {' '.join(args)} (exit {code})")
        raise typer.Exit(code)
    return code
