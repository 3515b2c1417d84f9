"""Destruction is counted honestly, confirmed, and leased: the abuse cases a tired technician or a careless
script hits, on the shipped H100 rack without simulators (nothing answers at its addresses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import DeviceType
from tests.strips import add_strip

Cli = Callable[..., Any]
GPUS = ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"]


@pytest.fixture
def rack(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", "unused")
    result = cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    assert result.exit_code == 0, result.stderr
    return cli


def test_a_cycle_asks_about_the_nodes_it_will_cycle_not_the_rack(rack: Cli) -> None:
    refused = rack("power", "cycle", "@rack:r12")  # nobody at a terminal, no --yes
    assert refused.exit_code == 2
    assert "power cycle 4 node(s) (gpu-r12-u[03,11,19,27])? - refusing without confirmation" in refused.stderr
    assert "left out 8 device(s) without a BMC" in refused.stderr
    assert rack("log", "--kind", "operation", "--json").json() == []


def test_a_cycle_dry_run_reads_the_nodes_with_a_bmc_only(rack: Cli) -> None:
    result = rack("power", "cycle", "@rack:r12", "--dry-run", "--json", "--timeout", "1", "--retries", "0")
    assert result.exit_code == 1  # their states could not be read (nothing answers here)
    rows = result.json()
    assert [r["target"] for r in rows] == GPUS
    assert all("does not answer" in r["error"] for r in rows)


def test_a_whole_pdu_is_counted_by_its_outlets_and_always_confirmed(
    rack: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction() as session:  # a PDU the inventory lists no outlets for
        queries.device(session, "pdu-r12-a2").outlets = []
    plan = rack("pdu", "off", "pdu-r12-a2", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    assert "would switch off pdu-r12-a2:1-36 (every outlet) - 36 outlet(s)" in plan.stdout
    assert "*" not in plan.stdout
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", "lab")
    monkeypatch.setenv("RACKCTL_CONFIRM_OVER", "100")  # even where many outlets need no question
    asked = rack("pdu", "off", "pdu-r12-a1")
    assert asked.exit_code == 2 and "refusing without confirmation" in asked.stderr
    assert "switch off pdu-r12-a1:1-36 (every outlet) - 36 outlet(s): pdu-r12-a1:1 (con-r12 PSU1)," in asked.stderr
    assert "powering con-r12, gpu-r12-u03, gpu-r12-u11, gpu-r12-u19, gpu-r12-u27, leaf-r12-a?" in asked.stderr
    assert rack("log", "--kind", "operation", "--json").json() == []


def test_a_pdu_nothing_lists_outlets_for_is_asked_before_anyone_is(
    rack: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction() as session:
        bare = DeviceType(slug="pdu-unknown", manufacturer="Generic", model="no outlets listed", u_height=0)
        device = queries.device(session, "pdu-r12-a2")
        device.outlets, device.device_type = [], bare
    plan = rack("pdu", "off", "pdu-r12-a2", "--dry-run", "--json")
    assert plan.exit_code == 0
    assert plan.json() == [
        {
            "pdu": "pdu-r12-a2",
            "outlets": [],
            "whole_pdu": True,
            "counted_by": "unknown until the PDU is read",
            "powers": [],
        }
    ]
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", "lab")
    rack("device", "set", "pdu-r12-a2", "--mgmt-address", "127.3.255.254")  # nothing answers there
    refused = rack("pdu", "off", "pdu-r12-a2", "--yes", "--timeout", "1")
    assert refused.exit_code == 2
    assert "cannot count the outlets of pdu-r12-a2" in refused.stderr
    assert "refusing to switch an unknown number of outlets" in refused.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pdu-r12-a1:30-40", "pdu-r12-a1 has outlets 1-36 (inventory: pdu-3ph-415v-63a-36); it has no outlet 37-40"),
        ("pdu-r12-a1:1-100000", "outlet 100000 cannot exist (no PDU has more than 1024)"),
        ("pdu-r12-a1:1-99999999999999999999", "cannot exist"),
        ("pdu-r12-a1:0-3", "outlet numbers start at 1"),
    ],
)
def test_outlet_numbers_are_checked_against_the_pdu(rack: Cli, spec: str, message: str) -> None:
    result = rack("pdu", "off", spec, "--dry-run")
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_pdu_dry_runs_need_no_credential(rack: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RACKCTL_PDU_COMMUNITY", raising=False)
    for action in ("on", "off", "cycle"):
        plan = rack("pdu", action, "pdu-r12-a1:25", "--dry-run")
        assert plan.exit_code == 0, plan.stderr
        assert f"would switch {action} pdu-r12-a1:25 - 1 outlet(s): pdu-r12-a1:25 (gpu-r12-u03 PSU1)" in plan.stdout


def test_plans_go_to_stdout(rack: Cli) -> None:
    result = rack("power", "on", "@rack:r12", "--sequence", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "wave 1 (network): con-r12,leaf-r12-a,leaf-r12-b,mgmt-r12" in result.stdout
    assert "wave" not in result.stderr


def test_a_bmc_name_that_does_not_resolve_is_not_a_bmc_that_does_not_answer(rack: Cli, db: Database) -> None:
    with db.transaction() as session:  # a host name, as an older inventory may hold (RFC 6761: never resolves)
        mgmt = queries.device(session, "gpu-r12-u03").mgmt
        assert mgmt is not None
        mgmt.address = "bmc-u03.invalid"
    result = rack("power", "status", "gpu-r12-u03", "--json")
    assert result.exit_code == 1
    (row,) = result.json()
    assert "bmc-u03.invalid: the name does not resolve" in row["error"]
    assert "does not answer" not in row["error"]


def test_persistent_boot_changes_on_many_nodes_ask_first(rack: Cli) -> None:
    refused = rack("boot", "pxe", "--persistent", "@rack:r12")
    assert refused.exit_code == 2
    assert "set every boot from pxe on 4 node(s) (gpu-r12-u[03,11,19,27])? - refusing" in refused.stderr
    plan = rack("boot", "pxe", "--persistent", "@rack:r12", "--dry-run")
    assert plan.exit_code == 0 and "would set every boot from pxe on 4 node(s)" in plan.stdout


def test_forcing_a_shared_outlet_names_every_other_device_and_asks(
    rack: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_strip(db)
    monkeypatch.setenv("RACKCTL_PDU_COMMUNITY", "lab")
    refused = rack("power", "cycle", "gpu-r12-u03", "--via", "pdu", "--force")
    assert refused.exit_code == 2
    assert "also switching off leaf-r12-a (on shared outlets)" in refused.stderr
    assert "refusing without confirmation" in refused.stderr


def test_a_device_another_run_holds_gets_its_refusal_and_the_others_go_on(rack: Cli, db: Database) -> None:
    from rackctl.inventory.models import Lease  # imported here: main before leases collects the other tests
    from rackctl.services import leases

    held = leases.acquire(db, ["gpu-r12-u03"], "cycled", "alice")
    try:
        result = rack("power", "off", "@rack:r12", "--yes", "--json", "--timeout", "1", "--retries", "0")
    finally:
        held.release()
    assert result.exit_code == 1
    rows = {r["target"]: r for r in result.json()}
    assert list(rows) == GPUS
    assert rows["gpu-r12-u03"]["error_type"] == "Busy"
    assert rows["gpu-r12-u03"]["error"].startswith("gpu-r12-u03 is being cycled by alice since ")
    assert all("does not answer" in rows[n]["error"] for n in GPUS[1:])  # tried: nothing answers here
    (logged,) = rack("log", "--kind", "operation", "--json").json()
    assert logged["targets"] == GPUS and [r["target"] for r in logged["results"]] == GPUS
    with db.transaction() as session:
        assert session.scalars(select(Lease)).all() == []  # the run released what it took
