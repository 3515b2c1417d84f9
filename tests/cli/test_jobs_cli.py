"""The task queue's commands on a SQLite inventory (the default): refused in one line, nothing queued;
`rackctl worker --write-unit` renders a systemd service that quotes what it is given."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult


def test_the_queue_on_sqlite_is_one_line(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'inventory.db'}"  # SQLite whichever backend the suite runs on
    for args in (("audit", "@all", "--queue"), ("audit", "@all", "--wait"), ("worker", "--site", "fra1"),
                 ("jobs", "list"), ("provision", "@all", "--queue"), ("provision", "@all", "--wait", "--yes"),
                 ("bringup", "@all", "--queue"), ("bringup", "@all", "--wait"),
                 ("firmware", "update", "@all", "--queue", "--yes"),
                 ("firmware", "update", "@all", "--wait")):  # fmt: skip
        result = cli("--db", sqlite, *args)
        assert result.exit_code == 2, args
        assert "the job queue needs PostgreSQL" in result.stderr and "Traceback" not in result.stderr


def test_a_hostile_site_is_refused_before_it_becomes_a_queue_name(cli: Callable[..., CliResult]) -> None:
    for site in ("fra1;rm -rf /", "fra1$(id)", "fr\u04301", "a" * 300):
        result = cli("worker", "--site", site, "--dry-run")
        assert result.exit_code == 2 and "--site" in result.stderr, site


def test_a_worker_name_that_is_not_one_printable_line_is_refused(cli: Callable[..., CliResult]) -> None:
    for name in ("w1\nExecStartPre=/bin/sh", "w\u202e1", "w" * 49):
        result = cli("worker", "--site", "fra1", "--name", name, "--dry-run")
        assert result.exit_code == 2 and "--name" in result.stderr, name


def test_the_unit_runs_the_worker_with_its_arguments_quoted(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    name = "w 1 $(reboot) `id` 100%"
    result = cli("worker", "--site", "fra1", "--queues", "audit,bmc", "--name", name, "--write-unit",
                 "--output", str(tmp_path), "--credential", "bmc-password")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "rackctl-worker-fra1.service").read_text()
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart=").replace("%%", "%"))
    assert argv[argv.index("worker") + 1 :][:4] == ["--site", "fra1", "--queues", "audit,bmc"]
    assert argv[argv.index("--name") + 1] == name
    assert "LoadCredential=bmc-password" in text and "Restart=on-failure" in text


def test_a_worker_without_ansible_does_not_serve_provision(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no ansible-playbook to be found
    result = cli("worker", "--site", "fra1", "--queues", "audit,provision")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "--queues provision: this host cannot run Ansible" in result.stderr
