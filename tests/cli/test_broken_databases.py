"""Every command against every kind of broken inventory: one line naming the cause, exit 2, nothing changed,
never a traceback. The commands are read from the CLI itself, so a new command is covered when it is added."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rackctl.cli import output
from rackctl.cli.app import app

# Values for required parameters, by parameter name; anything else gets "x" (a usage error is fine too:
# the point is that nothing crashes).
_VALUES = {
    "target": "gpu-r12-u03",
    "spec": "pdu-r12-a1",
    "node": "gpu-r12-u03",
    "device": "gpu-r12-u03",
    "switches": "leaf-r12-a",
    "name": "r99",
    "fault": "bmc-dead",
    "run_a": "1",
    "run_b": "2",
    "template": "h100-4node-air",
    "site": "fra1",
    "precision": "fp8",
    "context": "8192",
    "concurrency": "4",
    "gpus": "8",
    "every": "1h",
}
# `demo` builds its own scratch inventory and lab whatever --db says; it has its own end-to-end test.
# `init` is the one command that may create or upgrade an inventory: tested on its own below.
_OWN_INVENTORY = {"demo", "init"}
# Servers run until stopped when the inventory can be read (locked for writing, or read-only); they are
# run here only against inventories they cannot read.
_SERVERS = {("audit", "serve")}
_READABLE = {"locked", "read-only"}


def _commands() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "list_commands"):  # a group (Typer vendors its own click)
            ctx = command.context_class(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, (*path, name))
        elif path[0] not in _OWN_INVENTORY:
            found.append(path)

    walk(root, ())
    return found


def _argv(path: tuple[str, ...], scratch: Path) -> list[str]:
    root = typer.main.get_command(app)
    command: Any = root
    for name in path:
        command = command.get_command(command.context_class(command), name)
    argv = list(path)
    for param in command.params:
        if not param.required:
            continue
        value = _VALUES.get(param.name or "", str(scratch / "missing-file") if "path" in (param.name or "") else "x")
        argv += [value] if param.param_type_name == "argument" else [param.opts[0], value]
    if path == ("audit", "schedule"):
        argv += ["--output", str(scratch / "units")]  # never /etc/systemd/system from a test
    return argv


@dataclass
class Broken:
    url: str
    expect: str  # a phrase the one-line error must hold for commands that need the inventory
    file: Path | None = None
    kind: str = ""


def _fingerprint(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def good_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "inventory.db"
    for argv in (["init"], ["site", "add", "fra1"]):
        result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", *argv], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return path


def _copy(good: Path, folder: Path) -> Path:
    path = folder / "inventory.db"
    shutil.copy(good, path)
    return path


def _read_only(good: Path, folder: Path) -> Iterator[Broken]:
    path = _copy(good, folder)
    # Root ignores file modes; the immutable attribute stops root too.
    subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield Broken(f"sqlite:///{path}", "read-only", path)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def _not_a_database(_good: Path, folder: Path) -> Iterator[Broken]:
    path = folder / "inventory.db"
    path.write_bytes(b"these are not the bytes of a SQLite database\n" * 100)
    yield Broken(f"sqlite:///{path}", "not a", path)


def _missing(_good: Path, folder: Path) -> Iterator[Broken]:
    path = folder / "nested" / "inventory.db"
    yield Broken(f"sqlite:///{path}", "no inventory at", path)


def _unsupported(_good: Path, _folder: Path) -> Iterator[Broken]:
    yield Broken("mysql://ops:secret@127.0.0.1/rackctl", "rackctl supports sqlite and postgresql")


def _newer(good: Path, folder: Path) -> Iterator[Broken]:
    path = _copy(good, folder)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    yield Broken(f"sqlite:///{path}", "newer than this rackctl knows", path)


def _locked(good: Path, folder: Path) -> Iterator[Broken]:
    path = _copy(good, folder)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds it for the whole test
    try:
        yield Broken(f"sqlite:///{path}", "locked by another writer", None)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


BROKEN: dict[str, Callable[[Path, Path], Iterator[Broken]]] = {
    "read-only": _read_only,
    "not-a-database": _not_a_database,
    "missing": _missing,
    "unsupported-url": _unsupported,
    "newer-schema": _newer,
    "locked": _locked,
}


@pytest.fixture(params=sorted(BROKEN))
def broken(request: pytest.FixtureRequest, good_inventory: Path, tmp_path: Path) -> Iterator[Broken]:
    for broken in BROKEN[request.param](good_inventory, tmp_path):
        broken.kind = request.param
        yield broken


def _run(broken: Broken, argv: list[str], scratch: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, object]:
    monkeypatch.setenv("RACKCTL_CONFIG", str(scratch / "no-config.toml"))
    monkeypatch.setenv("RACKCTL_STATE_DIR", str(scratch / "state"))
    monkeypatch.setenv("RACKCTL_ACTOR", "tester")
    output.reset()
    result = CliRunner().invoke(app, ["--db", broken.url, "--wait", "0.2", *argv], input="n\n")
    output.reset()
    return result.exit_code, result.output, result.exception


def test_no_command_crashes_on_a_broken_inventory(
    broken: Broken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _fingerprint(broken.file)
    crashed: list[str] = []
    for path in _commands():
        if path in _SERVERS and broken.kind in _READABLE:
            continue
        argv = _argv(path, tmp_path)
        _code, text, exc = _run(broken, argv, tmp_path, monkeypatch)
        if "Traceback" in text or (exc is not None and not isinstance(exc, SystemExit)):
            crashed.append(f"rackctl {' '.join(argv)}: {type(exc).__name__}: {exc}")
        elif broken.file is not None:
            assert _fingerprint(broken.file) == before, f"rackctl {' '.join(argv)} changed the inventory file"
    assert crashed == []
    if broken.kind == "missing":
        assert broken.file is not None and not broken.file.parent.exists()


def test_init_creates_a_missing_inventory_and_refuses_the_broken_ones(
    broken: Broken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text, exc = _run(broken, ["init"], tmp_path, monkeypatch)
    assert "Traceback" not in text and (exc is None or isinstance(exc, SystemExit))
    if broken.kind == "missing":
        assert code == 0 and "inventory ready" in text
    else:
        assert code == 2 and broken.expect in text


WRITES = [["site", "add", "fra2"], ["rack", "create", "r99", "--template", "h100-4node-air", "--site", "fra1"]]
READS = [["device", "list"], ["log"], ["rack", "list"]]


@pytest.mark.parametrize("argv", WRITES + READS, ids=" ".join)
def test_commands_that_need_the_inventory_say_why_in_one_line(
    broken: Broken, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text, _exc = _run(broken, argv, tmp_path, monkeypatch)
    assert "Traceback" not in text
    if broken.kind in _READABLE and argv in READS:
        assert code == 0, text  # reading a locked or read-only inventory works
        return
    assert code == 2, text
    assert broken.expect in text
    assert len(text.strip().splitlines()) <= 2  # the error and its hint
