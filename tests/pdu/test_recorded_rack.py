"""A rack whose PDUs are of families the lab writes no walk for: `rackctl lab up` serves each from a
real PDU's recorded walk (Eaton, Dell, Sentry3, Vertiv), and the CLI works on them end to end:
`device set --platform`, `pdu probe` (found, shown, recorded), `pdu readings` with the recorded values,
a PDU read as the wrong family failing with a reason, switching an outlet that feeds a node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import RackLab

PLATFORMS = {"pdu-r12-a1": "eaton", "pdu-r12-a2": "dell", "pdu-r12-b1": "sentry-cdu", "pdu-r12-b2": "geist"}


class Cli(RackLab):
    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("recorded-rack")
    cli = Cli(
        root / "state" / "lab" / "recorded",
        {
            "RACKCTL_DB_URL": f"sqlite:///{root / 'inventory.db'}",
            "RACKCTL_STATE_DIR": str(root / "state"),
            "RACKCTL_CONFIG": str(root / "no-config.toml"),
            "RACKCTL_ACTOR": "tester",
        },
    )
    cli.ok("init")
    cli.ok("site", "add", "fra1")
    cli.ok("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    for pdu, platform in PLATFORMS.items():
        cli.ok("device", "set", pdu, "--platform", platform)
    # --recorded-pdus: every PDU from a recorded walk (these four families have no lab-written walk anyway)
    cli.ok("lab", "up", "--no-hosts", "--recorded-pdus", "--name", "recorded")
    try:
        yield cli
    finally:
        cli.ok("lab", "down", "--name", "recorded")


def test_a_platform_is_checked_before_it_is_stored(rack: Cli) -> None:
    bad = rack("device", "set", "pdu-r12-a1", "--platform", "eos")
    assert bad.exit_code == 2 and "'eos' is not a pdu platform" in bad.stderr
    hostile = rack("device", "set", "gpu-r12-u03", "--platform", "x$(reboot)")
    assert hostile.exit_code == 2 and "is not a platform name" in hostile.stderr
    shown = rack.json("device", "show", "pdu-r12-a1")
    assert shown["platform"] == "eaton"


def test_probe_finds_records_and_reports_each_pdu(rack: Cli) -> None:
    rack.ok("device", "set", "pdu-r12-a2", "--platform", "auto")
    found = {r["target"]: r["value"] for r in rack.json("pdu", "probe", "@rack:r12")}
    dell = found["pdu-r12-a2"]["probe"]
    # DELL6606 and its serial: LibreNMS's tests/data/dell-rpdu.json (hardware, serial) for the same walk
    assert dell["family"] == "dell" and dell["identity"]["model"] == "DELL6606"
    assert dell["identity"]["serial"] == "IN1A234B5678912CD345E67"
    assert dell["outlets"] == 24 and dell["metered"] and dell["switched"]
    assert found["pdu-r12-a2"]["note"] == "platform set to dell"
    assert found["pdu-r12-a1"]["probe"]["identity"]["model"] == "EMA114-10"  # eatonpdu_2.json hardware
    assert found["pdu-r12-b2"]["probe"]["phases"] == 3  # Phase A, B, C of the Vertiv walk
    shown = rack.json("device", "show", "pdu-r12-a2")
    assert shown["platform"] == "dell" and shown["facts"]["pdu"]["family"] == "dell"
    table = rack.ok("pdu", "probe", "pdu-r12-b1", "--no-record")
    assert "sentry3 (Sentry3-MIB" in table.stdout and "2 units" in table.stdout


def test_readings_are_the_recorded_values(rack: Cli) -> None:
    (report,) = rack.json("pdu", "readings", "pdu-r12-a1")
    inlet = next(m for m in report["value"]["readings"]["meters"] if m["level"] == "inlet")
    # inputCurrent 14108 mA and inputWatts 1589 W: LibreNMS reads 14.108 A and 1589 W (eatonpdu_2.json)
    assert inlet["current_a"] == 14.108 and inlet["power_w"] == 1589
    table = rack.ok("pdu", "readings", "pdu-r12-b2")
    assert "Phase A" in table.stdout and "Circuit 1" in table.stdout


def test_a_pdu_read_as_the_wrong_family_says_so(rack: Cli) -> None:
    rack.ok("device", "set", "pdu-r12-b2", "--platform", "raritan")
    try:
        result = rack("pdu", "readings", "pdu-r12-b2")
        assert result.exit_code == 1
        assert "no readings in the expected tables of PDU2-MIB" in result.stdout + result.stderr
    finally:
        rack.ok("device", "set", "pdu-r12-b2", "--platform", "geist")


def test_switching_a_recorded_pdus_outlet_reaches_the_lab(rack: Cli) -> None:
    off = rack.json("pdu", "off", "pdu-r12-a1:5", "--yes")
    assert off[0]["ok"] and off[0]["value"]["state"] == "off"
    status = rack.json("pdu", "status", "pdu-r12-a1:5-6")
    assert [r["value"]["state"] for r in status] == ["off", "on"]
    state_file = Path(rack.env["RACKCTL_STATE_DIR"]) / "lab" / "recorded"
    assert state_file.is_dir()
    on = rack.json("pdu", "on", "pdu-r12-a1:5")
    assert on[0]["ok"] and on[0]["value"]["state"] == "on"
