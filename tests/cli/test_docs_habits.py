"""Docs and habits: `--version`, help texts whose examples name devices the shipped templates have and
keep their brackets, every lab fault in the CLI help, and a README without stale statements."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rackctl import __version__
from rackctl.lab import faults

Cli = Callable[..., Any]
README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_version_prints_and_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom rackctl.cli.app import app\ntry:\n    app(['--version'])\nexcept SystemExit as e:\n"
        "    print('exit', e.code)\nprint('sqlalchemy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.splitlines() == [f"rackctl {__version__}", "exit 0", "False"], done.stderr


def test_help_examples_keep_their_brackets_and_name_real_nodes(cli: Cli) -> None:
    assert "pdu-r12-[a1,b1]" in cli("pdu", "off", "--help").stdout
    help_text = cli("power", "status", "--help").stdout
    example = re.search(r"gpu-r12-u\[[0-9,-]+\]", help_text)
    assert example is not None and example.group(0) == "gpu-r12-u[03,11]"
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    listed = cli("device", "list", example.group(0), "--json")
    assert listed.exit_code == 0 and [d["name"] for d in listed.json()] == ["gpu-r12-u03", "gpu-r12-u11"]


def test_every_lab_fault_is_in_the_help(cli: Cli) -> None:
    text = " ".join(cli("lab", "fault", "--help").stdout.split()).replace("- ", "-")
    assert faults.FAULTS and all(fault in text for fault in faults.FAULTS), text


def test_the_readme_says_what_works_now() -> None:
    assert "not wired" not in README
    assert "rackctl console gpu-r12-u03" in README
    commands = [line for line in README.splitlines() if line.startswith("rackctl ")]
    assert commands and not [c for c in commands if "u[03-27]" in c]
