"""Start-up: `rackctl --help` and completion import no heavy library, every command still loads with the
help the table promises, and a command whose optional extra is missing says which one to install.

Each check runs rackctl in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from rackctl.cli.app import COMMANDS, app
from rackctl.drivers.registry import driver_class
from rackctl.errors import MissingExtra
from rackctl.extras import EXTRAS, extra_of

HEAVY = ("sqlalchemy", "pyghmi", "redfish", "pysnmp", "netmiko", "paramiko", "jinja2", "ansible", "ansible_runner")

EVERY_EXTRA = tuple({package for packages in EXTRAS.values() for package in packages} - {"paramiko"})  # base dep

# Runs rackctl's main() with some packages made unimportable, then prints the top-level modules loaded.
RUNNER = textwrap.dedent(
    """
    import json, sys
    blocked, argv = set(json.loads(sys.argv[1])), sys.argv[2:]

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in blocked:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, Blocker())
    from rackctl.cli.app import main
    sys.argv = ["rackctl", *argv]
    try:
        main()
    finally:
        print("@@modules", json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
    """
)


def run(*argv: str, blocked: tuple[str, ...] = (), env: dict[str, str] | None = None) -> tuple[int, str, str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(list(blocked)), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    err, _, modules = done.stderr.rpartition("@@modules ")
    return done.returncode, done.stdout, err, set(json.loads(modules))


def test_help_imports_no_heavy_library() -> None:
    code, out, err, modules = run("--help")
    assert code == 0, err
    assert "power" in out and "switch" in out
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))
    assert "rich" not in modules  # rich is for tables; help is click's plain text


def test_completion_of_command_names_imports_no_heavy_library() -> None:
    env = {**_environ(), "_RACKCTL_COMPLETE": "complete_bash", "COMP_WORDS": "rackctl po", "COMP_CWORD": "1"}
    code, out, err, modules = run(env=env)
    assert code == 0, err
    assert "power" in out.split()
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_every_table_entry_loads_with_the_help_it_promises() -> None:
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    for name, entry in COMMANDS.items():
        command = group.get_command(ctx, name)
        assert command is not None and command.name == name
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        assert first_paragraph == entry.summary, name


def test_commands_needing_a_missing_extra_say_which_in_one_line(cli: Callable[..., Any], db_url: str) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    env = {**_environ(), "RACKCTL_DB_URL": db_url, "RACKCTL_BMC_PASSWORD": "x"}
    code, _, err, _ = run("switch", "render", "leaf-r12-a", blocked=EVERY_EXTRA, env=env)
    assert (code, err.strip()) == (
        2,
        "error: rackctl switch needs the 'switch' extra (jinja2 is missing): pip install 'rackctl[switch]'",
    )


def test_without_any_extra_help_and_inventory_commands_work(tmp_path: Path) -> None:
    env = {**_environ(), "RACKCTL_DB_URL": f"sqlite:///{tmp_path / 'inventory.db'}"}
    for argv in (["--help"], ["init"], ["info", "--json"], ["audit", "--help"], ["power", "--help"]):
        code, _, err, modules = run(*argv, blocked=EVERY_EXTRA, env=env)
        assert code == 0, (argv, err)
        assert modules.isdisjoint(EVERY_EXTRA)


def test_a_driver_needing_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # import redfish (and any of its submodules an earlier test loaded) now raises ModuleNotFoundError
    for name in ["redfish", *(n for n in sys.modules if n.startswith("redfish."))]:
        monkeypatch.setitem(sys.modules, name, None)
    # Every module of the Redfish driver, so none that an earlier test imported still holds the library.
    for name in [n for n in sys.modules if n.startswith("rackctl.drivers.redfish")]:
        monkeypatch.delitem(sys.modules, name)
    driver_class.cache_clear()
    try:
        with pytest.raises(MissingExtra, match=r"pip install 'rackctl\[oob\]'"):
            driver_class("rackctl.bmc", "redfish")
    finally:
        driver_class.cache_clear()


def _environ() -> dict[str, str]:
    return dict(os.environ)


def test_extras_table_matches_pyproject() -> None:
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    declared = {
        extra: {re.split(r"[<>=\[ ;]", requirement)[0].lower().replace("-", "_") for requirement in requirements}
        for extra, requirements in project["optional-dependencies"].items()
        if extra != "test"
    }
    assert declared == {extra: set(packages) for extra, packages in EXTRAS.items()}


def test_lab_commands_name_the_lab_extra_for_a_package_two_extras_hold() -> None:
    assert (extra_of("pysnmp", "lab"), extra_of("pysnmp", "pdu"), extra_of("pysnmp")) == ("lab", "pdu", "pdu")
    assert (extra_of("jinja2", "lab"), extra_of("yaml")) == ("switch", None)
