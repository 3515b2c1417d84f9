"""Shell completion of node names, `@source:group` words, templates, profiles, device types and racks,
from the inventory (issue 16), driven through the shell protocol itself: bash's COMP_WORDS/COMP_CWORD in
`_RACKCTL_COMPLETE=complete_bash`, as the completion script sends them."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from rackctl import targets
from rackctl.cli.app import app
from rackctl.inventory import completion

Cli = Callable[..., Any]
MAIN = "import sys; sys.argv = ['rackctl']; from rackctl.cli.app import main; main()"  # as the installed script


def complete(*words: str) -> list[str]:
    """What Tab offers after `rackctl WORDS...` (the last word is the one being typed)."""
    line = shlex.join(["rackctl", *words[:-1]]) + " " + words[-1]
    env = {"_RACKCTL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words))}
    result = CliRunner().invoke(app, [], env=env, prog_name="rackctl", catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout.split()


def test_node_names_and_groups_complete_from_the_inventory(r12: Cli) -> None:
    assert complete("power", "status", "gpu-r12-u1") == ["gpu-r12-u11", "gpu-r12-u19"]
    assert complete("power", "status", "@r") == ["@rack:", "@role:"]
    assert complete("power", "status", "@a") == ["@all"]
    assert complete("device", "list", "@rack:") == ["@rack:r12"]
    assert complete("device", "list", "@role:gpu") == ["@role:gpu-node"]
    assert complete("device", "list", "@state:in") == ["@state:in-service"]
    assert complete("device", "list", "@site:f") == ["@site:fra1"]
    assert complete("device", "list", "@type:hgx-h100-8gpu-") == ["@type:hgx-h100-8gpu-ndr"]
    # The operand after the last operator is completed; what came before it stays as typed.
    assert complete("power", "on", "@rack:r12&@role:l") == ["@rack:r12&@role:leaf"]
    assert complete("validate", "gpu-r12-u03,leaf") == ["gpu-r12-u03,leaf-r12-a", "gpu-r12-u03,leaf-r12-b"]
    assert complete("power", "status", "gpu-r12-u[0") == []  # a range being written


def test_names_of_every_kind_complete(r12: Cli, tmp_path: Path) -> None:
    assert complete("rack", "create", "r13", "--template", "h100-") == ["h100-4node-air", "h100-pod-2rack-ib"]
    assert complete("rack", "show", "r1") == ["r12"]
    assert complete("device", "show", "con") == ["con-r12"]
    assert complete("device", "rename", "mgmt") == ["mgmt-r12"]
    assert complete("devicetype", "remove", "l40") == ["l40s-4gpu-2u"]
    profiles = r12("profile", "list", "--json").json()
    assert profiles, "the shipped template defines profiles"
    name = profiles[0]["name"]
    assert complete("profile", "edit", name[:3]) == sorted(
        p["name"] for p in profiles if p["name"].startswith(name[:3])
    )
    assert complete("device", "set", "gpu-r12-u03", "--profile", name) == [name]


def test_like_wildcards_in_what_was_typed_match_only_themselves(r12: Cli) -> None:
    assert complete("device", "show", "gpu_r12") == []
    assert complete("device", "show", "%") == []
    assert complete("device", "list", "@rack:%") == []


def test_every_group_source_of_targets_completes() -> None:
    assert set(completion.GROUPS) == set(targets._SOURCES)


def test_without_an_inventory_completion_offers_nothing_and_creates_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RACKCTL_DB_URL": f"sqlite:///{tmp_path / 'none' / 'inventory.db'}",
        "_RACKCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "rackctl power status gpu",
        "COMP_CWORD": "3",
    }
    done = subprocess.run(
        [sys.executable, "-c", MAIN], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")
    assert not (tmp_path / "none").exists()


def test_the_shell_protocol_completes_node_names(r12: Cli) -> None:
    env = {
        **os.environ,
        "_RACKCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "rackctl power status @rack:",
        "COMP_CWORD": "3",
    }
    done = subprocess.run(
        [sys.executable, "-c", MAIN], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["@rack:r12"]
