"""One validation for every write path: `device set` refuses what `import csv` refuses, says when there
is nothing to change, and a bad endpoint that reached the database anyway fails its own target only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Device

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]


def _one_error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("  hint: ")]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


REFUSED = [
    (("--mgmt-port", "70000"), "'70000' is not a port number (1-65535)"),
    (("--mgmt-port", "-5"), "'-5' is not a port number"),
    (("--mgmt-port", "0"), "'0' is not a port number"),
    (("--mgmt-address", ""), "an empty address"),
    (("--mgmt-address", "   "), "an empty address"),
    (("--mgmt-address", "bmc-u03.example"), "'bmc-u03.example' is not an IP address"),
    (("--mgmt-address", "10.200.0.15"), "bmc_address 10.200.0.15 already belongs to gpu-r12-u11"),
    (("--mgmt-address", "10.100.0.11"), "bmc_address 10.100.0.11 already belongs to gpu-r12-u11"),  # its host IP
    ((), "nothing to change"),
]


@pytest.mark.parametrize(("options", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_device_set_refuses_what_csv_import_refuses(
    r12: Cli, row_counts: Counts, options: tuple[str, ...], message: str
) -> None:
    before = row_counts()
    assert message in _one_error(r12("device", "set", "gpu-r12-u03", *options))
    assert row_counts() == before


def test_a_serial_or_tag_another_device_holds_is_named(r12: Cli) -> None:
    assert r12("device", "set", "gpu-r12-u11", "--serial", "SN-11", "--asset-tag", "AT-11").exit_code == 0
    assert "serial SN-11 already belongs to gpu-r12-u11" in _one_error(
        r12("device", "set", "gpu-r12-u03", "--serial", "sn-11")
    )
    assert "asset_tag AT-11 already belongs to gpu-r12-u11" in _one_error(
        r12("device", "set", "gpu-r12-u03", "--asset-tag", "AT-11")
    )
    same = r12("device", "set", "gpu-r12-u11", "--serial", "SN-11")  # its own: not a collision
    assert same.exit_code == 0 and "0 of 1 device(s) changed" in same.stdout


def test_a_bad_port_in_the_database_fails_its_own_target_only(
    r12: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", "secret")
    with db.transaction() as session:  # as an older rackctl, or a hand-edited database, left it
        device = session.scalars(select(Device).where(Device.name == "gpu-r12-u03")).one()
        assert device.mgmt is not None
        device.mgmt.port = 70000
    result = r12("power", "status", "@rack:r12", "--timeout", "1", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    rows = {r["target"]: r for r in result.json()}
    assert set(rows) == {"gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"}
    assert rows["gpu-r12-u03"]["error"] == "gpu-r12-u03: management port 70000 is not a port number (1-65535)"
    assert all("does not answer" in rows[n]["error"] for n in rows if n != "gpu-r12-u03")
    table = r12("power", "status", "@rack:r12", "--timeout", "1")
    assert table.exit_code == 1 and table.stdout.count("FAIL") == 4
    assert r12("device", "set", "gpu-r12-u03", "--mgmt-port", "623").exit_code == 0  # and the fix is accepted
