"""Lab fixtures: racks from the shipped templates with real simulators behind them.

Every fixture takes its lab down again, even when the test fails, so nothing outlives a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.inventory.queries import device
from rackctl.lab import state as lab_state
from rackctl.services.bmc import endpoint_of
from rackctl.types import Endpoint
from tests.conftest import CliResult


class Lab:
    def __init__(self, cli: Callable[..., CliResult], db: Database, state_dir: Path) -> None:
        self.cli, self.db, self.state_dir = cli, db, state_dir

    @property
    def folder(self) -> Path:
        return lab_state.lab_folder(self.state_dir, "default")

    def state(self) -> lab_state.LabState:
        loaded = lab_state.load(self.folder)
        assert loaded is not None
        return loaded

    def endpoint(self, name: str) -> Endpoint:
        with self.db.transaction() as session:
            return endpoint_of(device(session, name))

    def json(self, *args: str) -> object:
        result = self.cli(*args, "--json")
        return json.loads(result.stdout)


def _lab(
    cli: Callable[..., CliResult], db: Database, tmp_path: Path, template: str, rack: str, *up_args: str
) -> Iterator[Lab]:
    assert cli("rack", "create", rack, "-t", template, "-s", "fra1").exit_code == 0
    result = cli("lab", "up", rack, *up_args)
    assert result.exit_code == 0, result.stderr
    handle = Lab(cli, db, tmp_path / "state")
    try:
        yield handle
    finally:
        cli("lab", "down")


@pytest.fixture
def ipmi_lab(cli: Callable[..., CliResult], db: Database, tmp_path: Path) -> Iterator[Lab]:
    """Rack r12 (four H100 nodes with IPMI BMCs) simulated, without SSH hosts."""
    yield from _lab(cli, db, tmp_path, "h100-4node-air", "r12", "--no-hosts")


@pytest.fixture
def redfish_lab(cli: Callable[..., CliResult], db: Database, tmp_path: Path) -> Iterator[Lab]:
    """Rack r20 (eight L40S nodes with Redfish BMCs) simulated, without SSH hosts."""
    yield from _lab(cli, db, tmp_path, "l40s-8node", "r20", "--no-hosts")
