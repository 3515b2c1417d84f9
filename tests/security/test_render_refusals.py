"""Issue 12 §1 where rendered text leaves rackctl: a name stored past the rule never reaches a switch, the
EOS line filter splits only where the switch does, the Cumulus push never runs rendered text as a script,
and a switch backup never leaves its folder. Each of these failed on main (ffe142f)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import one_error_line
from intents import intent
from sqlalchemy import text

from rackctl.drivers.switch_platforms import Cumulus, cli_lines
from rackctl.errors import CommandError, ConfigError, ValidationError
from rackctl.inventory.db import Database
from rackctl.services.switch.ops import save_backup
from rackctl.services.switch.render import render

PLATFORMS = ("eos", "nxos", "cumulus", "sonic", "onyx", "linux")


def _commands(candidate: str) -> list[list[str]]:
    """The NVUE commands a Cumulus candidate holds, as a shell would split them (comments dropped)."""
    return [shlex.split(line) for line in candidate.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hostile_name_stored_behind_the_rule_is_refused_when_rendering(
    r12: Callable[..., Any], db: Database, platform: str
) -> None:
    """A row written past the rule (SQL by hand, an older release) cannot reach a switch's configuration."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE devices SET platform = :p WHERE name LIKE 'leaf-r12-%'"), {"p": platform})
        conn.execute(
            text("UPDATE devices SET name = :n WHERE name = 'gpu-r12-u03'"),
            {"n": "gpu-r12-u03\nusername evil privilege 15 secret x"},
        )
    result = r12("switch", "render", "leaf-r12-a")
    assert result.exit_code == 2 and result.stdout == ""
    line = one_error_line(result)
    assert "refusing to render" in line and "\\n" in line


def test_the_eos_line_filter_only_splits_where_the_switch_does() -> None:
    header = "! rackctl: leaf{} (leaf), generated from the inventory\nhostname leaf\n"
    for breaker in ("\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"):
        with pytest.raises(ConfigError, match="refusing to send line 1"):
            cli_lines(header.format(f"{breaker}username evil privilege 15 secret x"))
    assert cli_lines(header.format("-r12-a")) == ["hostname leaf"]


class _LocalShell:
    """A switch whose shell is this machine's POSIX sh, with a stand-in `nv` that records its arguments."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.log = folder / "nv.log"
        stub = folder / "bin" / "nv"
        stub.parent.mkdir()
        stub.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"with open({str(self.log)!r}, 'a') as f:\n    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        )
        stub.chmod(0o755)
        self.env = {**os.environ, "PATH": f"{stub.parent}:{os.environ['PATH']}"}
        self.endpoint = type("Endpoint", (), {"name": "leaf-r12-a"})()

    def shell(self, command: str, read_timeout: float = 60.0) -> str:
        done = subprocess.run(["sh", "-c", command], cwd=self.folder, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise CommandError(f"{command.split()[0]} failed: {done.stderr}")
        return done.stdout

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def test_the_cumulus_push_sends_each_value_as_one_literal_word(tmp_path: Path) -> None:
    switch = _LocalShell(tmp_path)
    hostile = ["y'$(touch PWNED)'", "`touch PWNED`", "x; touch PWNED", "a && touch PWNED"]
    candidate = render(intent("cumulus", descriptions=hostile))
    Cumulus(switch).apply(candidate)  # type: ignore[arg-type]
    calls = switch.calls()
    assert not (tmp_path / "PWNED").exists()
    assert calls[0] == ["config", "detach"] and calls[-1] == ["config", "apply", "--confirm", "10m", "-y"]
    assert calls[1:-1] == [argv[1:] for argv in _commands(candidate)]
    described = [c[-1] for c in calls if c[:1] == ["set"] and c[-2:-1] == ["description"]]
    assert described[:2] == hostile[:2]


@pytest.mark.parametrize(
    "line",
    ["touch PWNED", "bash -c 'touch PWNED'", "nv set interface swp1 description 'x", "nv", "nv show interface"],
)
def test_the_cumulus_push_refuses_a_line_that_is_not_one_nv_set_command(tmp_path: Path, line: str) -> None:
    switch = _LocalShell(tmp_path)
    with pytest.raises(ConfigError, match="refusing to send"):
        Cumulus(switch).apply(f"nv set system hostname leaf\n{line}\n")  # type: ignore[arg-type]
    assert not switch.log.exists() and not (tmp_path / "PWNED").exists()


def test_an_injected_separator_is_an_argument_not_a_command(tmp_path: Path) -> None:
    switch = _LocalShell(tmp_path)
    Cumulus(switch).apply("nv set interface swp1 description x; touch PWNED\n")  # type: ignore[arg-type]
    assert ["set", "interface", "swp1", "description", "x;", "touch", "PWNED"] in switch.calls()
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("name", ["../../x", "..", "/etc", "a/../../b", ""])
def test_a_switch_backup_never_leaves_its_folder(tmp_path: Path, name: str) -> None:
    state = tmp_path / "state"
    with pytest.raises(ValidationError, match="cannot name a file or folder"):
        save_backup(state, name, "hostname x\n")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) in ([], [Path("state")])
