"""PDU commands that need no simulator: the sequencing plan of the shipped H100 rack, the budget
binding, the shared-outlet refusal of `power cycle --via pdu`, and the PDU commands' error paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from tests.strips import add_strip

Cli = Callable[..., Any]


@pytest.fixture
def rack(cli: Cli) -> Cli:
    result = cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    assert result.exit_code == 0, result.stderr
    return cli


def test_sequencing_plan_for_the_h100_rack(rack: Cli) -> None:
    result = rack("power", "restore", "@rack:r12", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    waves = result.json()["waves"]
    assert [(w["group"], w["devices"]) for w in waves] == [
        ("network", ["con-r12", "leaf-r12-a", "leaf-r12-b", "mgmt-r12"]),
        ("compute", ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"]),
    ]
    # 4 x 11.5 kW inrush plus 1.34 kW of network gear on one feed when the other is lost, of 57.5 kW usable.
    assert waves[1]["inrush_kw"] == 46.0
    assert waves[1]["peak_point"] == "feed r12/B with A lost"
    assert (waves[1]["peak_kw"], waves[1]["usable_kw"]) == (47.34, 57.5)


def test_batch_limits_each_wave(rack: Cli) -> None:
    result = rack("power", "on", "@rack:r12", "--sequence", "--dry-run", "--batch", "2", "--json")
    assert result.exit_code == 0, result.stderr
    assert [len(w["devices"]) for w in result.json()["waves"]] == [2, 2, 2, 2]


def test_the_budget_splits_waves_and_refuses_what_never_fits(rack: Cli, db: Database) -> None:
    with db.transaction() as session:
        for feed in queries.rack(session, "r12").feeds:
            feed.amperage = 63.0  # 45.3 kVA: 36.2 kW usable, less than four H100 nodes on one feed
    result = rack("power", "on", "@rack:r12", "--sequence", "--dry-run", "--batch", "8")
    assert result.exit_code == 1
    assert "wave 2 (compute): gpu-r12-u[03,11,19] - inrush 34.5 kW" in result.stdout
    assert "not planned: gpu-r12-u27: feed r12/B with A lost would carry 43.4 of 36.2 kW" in result.stdout


def test_cycle_via_pdu_refuses_an_outlet_that_feeds_another_device(rack: Cli, db: Database) -> None:
    add_strip(db)
    plan = rack("power", "cycle", "gpu-r12-u03", "--via", "pdu", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    assert "pdu-r12-a1:3 (PSU1)" in plan.stdout and "shared: pdu-r12-a1:3 also feeds leaf-r12-a" in plan.stdout
    refused = rack("power", "cycle", "gpu-r12-u03", "--via", "pdu", "--yes")
    assert refused.exit_code == 2
    assert "refusing to cycle gpu-r12-u03 at the PDU: pdu-r12-a1:3 also feeds leaf-r12-a" in refused.stderr
    assert "--force" in refused.stderr


def test_pdu_command_errors(rack: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = rack("pdu", "status", "pdu-r99-a1")
    assert unknown.exit_code == 2 and "not in the inventory: pdu-r99-a1" in unknown.stderr
    not_a_pdu = rack("pdu", "off", "gpu-r12-u03:1", "--yes")
    assert not_a_pdu.exit_code == 2 and "holds no PDU" in not_a_pdu.stderr
    unresolved = rack("pdu", "status", "pdu-r12-a1:25")
    assert unresolved.exit_code == 2 and "RACKCTL_PDU_COMMUNITY is not set" in unresolved.stderr
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", "lab")
    unconfirmed = rack("pdu", "off", "pdu-r12-a1:25-26")
    assert unconfirmed.exit_code == 2 and "refusing without confirmation" in unconfirmed.stderr
    plan = rack("pdu", "off", "pdu-r12-a1:25-26", "--dry-run")
    assert plan.exit_code == 0
    assert (
        "would switch off pdu-r12-a1:25-26 - 2 outlet(s): pdu-r12-a1:25 (gpu-r12-u03 PSU1), "
        "pdu-r12-a1:26 (gpu-r12-u03 PSU5); powering gpu-r12-u03" in plan.stdout
    )


def test_a_pdu_that_does_not_answer_fails_each_outlet(rack: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", "lab")
    moved = rack("device", "set", "pdu-r12-a1", "--mgmt-address", "127.3.255.254")  # nothing listens there
    assert moved.exit_code == 0, moved.stderr
    result = rack("pdu", "on", "pdu-r12-a1:1-3", "--json")
    assert result.exit_code == 1
    out = result.json()
    assert [r["target"] for r in out] == ["pdu-r12-a1:1", "pdu-r12-a1:2", "pdu-r12-a1:3"]
    assert all(not r["ok"] and r["error_type"] == "Timeout" and "no answer" in r["error"] for r in out)
    log = rack("log", "--json")
    assert log.exit_code == 0
    assert "pdu on pdu-r12-a1:1-3" in log.stdout
