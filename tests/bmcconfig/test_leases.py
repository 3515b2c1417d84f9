"""BMC-side changes lease their nodes and journal their intent: a node another run holds gets `Busy` for that
node only, is never written to, and the operation log holds the intent before any change and every result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rackctl.inventory.db import Database
from rackctl.lab.redfish_mockup import MockupServer
from rackctl.services import leases
from tests.bmcconfig.conftest import Fleet
from tests.bmcconfig.test_bios import QUICK as BIOS_QUICK
from tests.bmcconfig.test_firmware import QUICK, _baseline

HELD, FREE = "gpu-r12-u03", "gpu-r12-u11"
NODES = f"gpu-r12-u[{HELD[-2:]},{FREE[-2:]}]"


@pytest.fixture
def held_by_alice(db: Database) -> Iterator[None]:
    """Another technician's run holds HELD for as long as the test runs."""
    lease = leases.acquire(db, [HELD], "cycled", "alice")
    assert lease.granted == [HELD]
    yield
    lease.release()


def _writes(server: MockupServer) -> list[str]:
    """What a BMC was asked to change (logging in and out aside)."""
    return [f"{r.method} {r.path}" for r in server.requests if r.method != "GET" and "/Sessions" not in r.path]


def _firmware(fleet: Callable[..., Fleet], tmp_path: Path) -> tuple[Fleet, tuple[str, ...]]:
    return fleet(nodes=2, firmware=_baseline(tmp_path)), ("firmware", "update", NODES, *QUICK)


def _bios(fleet: Callable[..., Fleet], tmp_path: Path) -> tuple[Fleet, tuple[str, ...]]:
    bios = {"boot_mode": "legacy", "attributes": {"ProcTurboMode": "Enabled"}}
    return fleet(nodes=2, variant="bios-registry", bios=bios), ("bios", "apply", NODES, *BIOS_QUICK)


def _media(fleet: Callable[..., Fleet], tmp_path: Path) -> tuple[Fleet, tuple[str, ...]]:
    return fleet(nodes=2), ("media", "insert", NODES, "--image", "http://127.0.0.1/images/installer.iso")


@pytest.mark.parametrize("command", [_firmware, _bios, _media], ids=["firmware-update", "bios-apply", "media-insert"])
def test_a_node_another_run_holds_is_busy_and_the_others_go_on(
    fleet: Callable[..., Fleet], tmp_path: Path, db: Database, held_by_alice: None, command: Any
) -> None:
    run, args = command(fleet, tmp_path)
    result = run.cli(*args, "--yes", "--json")
    assert result.exit_code == 1, result.stdout + result.stderr
    rows = {r["target"]: r for r in result.json()}
    assert rows[HELD]["error"].startswith(f"{HELD} is being cycled by alice since ")
    assert rows[FREE]["ok"], rows[FREE]
    assert _writes(run.servers[HELD]) == [] and _writes(run.servers[FREE]) != []
    done, intent = run.cli("log", "--kind", "operation", "--json").json()[:2]  # newest first
    assert intent["command"].endswith(" (intent)") and intent["targets"] == [FREE]  # the plan of what it holds
    assert done["command"] == intent["command"].removesuffix(" (intent)") and done["targets"] == [HELD, FREE]
    assert done["id"] > intent["id"] and (done["ok"], done["summary"]) == (False, "1/2 ok")
    outcome = {r["target"]: (r["ok"], r["message"]) for r in done["results"]}
    assert outcome[HELD] == (False, rows[HELD]["error"]) and outcome[FREE][0] is True
