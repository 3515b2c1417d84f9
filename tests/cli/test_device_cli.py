"""`device list|show|set`, `import csv`, `validate`, `export ansible-inventory` and `log` through the CLI;
secrets stay out of the output and the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rackctl.inventory.db import Base, Database
from rackctl.inventory.models import Rack
from rackctl.inventory.templates.loader import load_template
from rackctl.inventory.validate import CHECKS
from rackctl.services.oplog import TargetResult, record

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]
GPUS = [f"gpu-r12-u{u:02d}" for u in (3, 11, 19, 27)]


def _error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("  hint: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


# device list / show / set


def test_device_list_with_targets(r12: Cli) -> None:
    everything = r12("device", "list", "--json").json()
    assert len(everything) == 12
    rows = r12("device", "list", "@rack:r12&@role:gpu-node", "--json").json()
    assert [r["name"] for r in rows] == GPUS
    assert rows[0] == {
        "name": "gpu-r12-u03",
        "rack": "r12",
        "u": 3,
        "role": "gpu-node",
        "type": "hgx-h100-8gpu",
        "state": "planned",
        "profile": "h100-inference",
        "serial": None,
        "mgmt": "ipmi://10.200.0.14",
    }
    table = r12("device", "list", "leaf-r12-a,leaf-r12-b")
    assert table.exit_code == 0 and "Devices (2)" in table.stdout


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("gpu-r12-u[01-03]", "not in the inventory: gpu-r12-u[01-02]"),
        ("@rack:r12&@state:brokn", "unknown state 'brokn'"),
        ("gpu-r12-u[03", "target 'gpu-r12-u[03': missing bracket"),
    ],
)
def test_device_list_refuses_bad_targets(r12: Cli, target: str, message: str) -> None:
    result = r12("device", "list", target, "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert message in _error(result)


def test_device_show(r12: Cli) -> None:
    shown = r12("device", "show", "gpu-r12-u03", "--json").json()
    assert (shown["name"], shown["face"], shown["draw_w"], shown["gpus"]) == (
        "gpu-r12-u03",
        "front",
        10200,
        "8x H100-SXM5-80GB",
    )
    assert shown["mgmt"] == {
        "protocol": "ipmi",
        "detected": None,
        "address": "10.200.0.14",
        "port": None,
        "username": "admin",
        "credential": "env:RACKCTL_BMC_PASSWORD",
        "verify_tls": True,
        "scheme": None,
        "tls_fingerprint": None,
    }
    interfaces = {i["name"]: i for i in shown["interfaces"]}
    assert interfaces["ens1f0np0"]["peer"] == "leaf-r12-a:Ethernet1/1" and interfaces["ens1f0np0"]["bond"] == "bond0"
    assert interfaces["bond0"]["addresses"] == ["10.100.0.10/26"] and interfaces["bond0"]["peer"] is None
    assert interfaces["Serial"] == {
        "name": "Serial",
        "kind": "console",
        "speed_mbps": None,
        "mac": None,
        "mtu": None,
        "bond": None,
        "addresses": [],
        "peer": "con-r12:port1",
    }
    assert shown["power_ports"][0] == {
        "name": "PSU1",
        "maximum_draw_w": 1700,
        "outlet": "pdu-r12-a1:25",
        "feed": "A",
        "phase": "L1",
    }
    assert [(h["from"], h["to"], h["actor"]) for h in shown["history"]] == [(None, "planned", "tester")]
    table = r12("device", "show", "gpu-r12-u03")
    assert table.exit_code == 0 and "pdu-r12-a1:25" in table.stdout and "History" in table.stdout


def test_device_show_refuses_an_unknown_device(r12: Cli) -> None:
    result = r12("device", "show", "gpu-r12-u05")
    assert result.exit_code == 2
    assert _error(result) == "no device named 'gpu-r12-u05'"


def test_device_set_state_records_actor_and_reason(r12: Cli) -> None:
    result = r12("device", "set", "@rack:r12&@role:gpu-node", "--state", "racked", "--reason", "delivered, slid in")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "4 of 4 device(s) changed"
    history = r12("device", "show", "gpu-r12-u19", "--json").json()["history"]
    assert [(h["from"], h["to"], h["actor"], h["reason"]) for h in history][-1] == (
        "planned",
        "racked",
        "tester",
        "delivered, slid in",
    )
    again = r12("device", "set", "gpu-r12-u[03,11]", "--state", "racked")
    assert again.stdout.strip() == "0 of 2 device(s) changed"


def test_device_set_refuses_a_skipped_step_unless_forced(r12: Cli, row_counts: Counts) -> None:
    before = row_counts()
    refused = r12("device", "set", "gpu-r12-u[03,11]", "--state", "in-service")
    assert refused.exit_code == 2
    assert _error(refused) == "gpu-r12-u03: cannot go from planned to in-service"
    assert "--force records the jump anyway" in refused.stderr
    assert row_counts() == before
    forced = r12("device", "set", "gpu-r12-u03", "--state", "in-service", "--force", "--reason", "RMA swap")
    assert forced.exit_code == 0
    shown = r12("device", "show", "gpu-r12-u03", "--json").json()
    assert shown["state"] == "in-service"
    assert (shown["history"][-1]["from"], shown["history"][-1]["reason"]) == ("planned", "RMA swap")


def test_device_set_identity_profile_and_management(r12: Cli) -> None:
    result = r12(
        "device", "set", "gpu-r12-u27", "--serial", "SN-27", "--asset-tag", "AT-27", "--profile", "",
        "--mgmt-address", "10.210.0.27", "--mgmt-port", "443", "--mgmt-protocol", "redfish",
        "--mgmt-credential", "file:/etc/rackctl/bmc.pass",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = r12("device", "show", "gpu-r12-u27", "--json").json()
    assert (shown["serial"], shown["asset_tag"], shown["profile"]) == ("SN-27", "AT-27", None)
    assert shown["mgmt"]["credential"] == "file:/etc/rackctl/bmc.pass"
    assert (shown["mgmt"]["address"], shown["mgmt"]["port"], shown["mgmt"]["protocol"]) == (
        "10.210.0.27",
        443,
        "redfish",
    )
    refused = r12("device", "set", "@role:gpu-node", "--serial", "SN-X")
    assert refused.exit_code == 2 and "--serial name(s) one device only, not 4" in _error(refused)
    bad_state = r12("device", "set", "gpu-r12-u27", "--state", "broken")
    assert bad_state.exit_code == 2


@pytest.mark.parametrize(
    ("device", "platform", "stored"),
    [
        ("pdu-r12-a1", "PX3", "px3"),  # an alias of a PDU family, stored lowercase
        ("pdu-r12-b1", "auto", "auto"),
        ("leaf-r12-a", "sonic", "sonic"),
        ("mgmt-r12", "cumulus", "cumulus"),
        ("con-r12", "opengear", "opengear"),
        ("gpu-r12-u03", "ubuntu-24.04", "ubuntu-24.04"),
    ],
)
def test_device_set_platform_on_every_kind_of_device(r12: Cli, device: str, platform: str, stored: str) -> None:
    assert r12("device", "set", device, "--platform", platform).exit_code == 0
    assert r12("device", "show", device, "--json").json()["platform"] == stored
    assert r12("device", "set", device, "--platform", "").exit_code == 0
    assert not r12("device", "show", device, "--json").json()["platform"]


def test_device_set_platform_refuses_one_of_another_role(r12: Cli) -> None:
    refused = r12("device", "set", "leaf-r12-a", "--platform", "raritan")
    assert refused.exit_code == 2 and "'raritan' is not a leaf platform" in _error(refused)
    refused = r12("device", "set", "pdu-r12-a1", "--platform", "sonic")
    assert refused.exit_code == 2 and "'sonic' is not a pdu platform" in _error(refused)


def test_device_set_pdu_unit_names_a_pdus_place_in_its_daisy_chain(r12: Cli) -> None:
    assert r12("device", "set", "pdu-r12-b2", "--pdu-unit", "2").exit_code == 0
    assert r12("device", "show", "pdu-r12-b2", "--json").json()["mgmt"]["pdu_unit"] == 2
    refused = r12("device", "set", "gpu-r12-u03", "--pdu-unit", "2")
    assert refused.exit_code == 2 and _error(refused) == "--pdu-unit: gpu-r12-u03 is not a PDU"


@pytest.mark.parametrize("value", ["0", "65", "-1", "2$(reboot)", "1e3", " ", "\uff12"])  # a fullwidth 2
def test_device_set_pdu_unit_refuses_what_is_not_a_unit(r12: Cli, value: str) -> None:
    before = r12("device", "show", "pdu-r12-b2", "--json").json()["mgmt"]
    refused = r12("device", "set", "pdu-r12-b2", "--pdu-unit", value)
    assert refused.exit_code == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert r12("device", "show", "pdu-r12-b2", "--json").json()["mgmt"] == before


def test_a_template_pdu_unit_is_checked_like_device_set(r12: Cli, tmp_path: Path) -> None:
    data = json.loads(json.dumps(load_template("h100-4node-air").data))  # plain dicts, no line tracking
    pdu = next(d for d in data["devices"] if d.get("role") == "pdu" and d.get("management"))
    pdu["management"]["options"] = {"unit": 0}
    path = tmp_path / "chained.yaml"
    path.write_text(json.dumps(data))  # YAML is a superset of JSON
    result = r12("rack", "create", "r13", "-t", str(path), "-s", "fra1")
    assert result.exit_code == 2 and "is not a unit of a PDU daisy chain (1-64)" in result.stderr
    assert "unit" in result.stderr and "Traceback" not in result.stderr


def _all_rows_as_text(db: Database) -> str:
    with db.engine.connect() as conn:
        return "\n".join(repr(row) for table in Base.metadata.sorted_tables for row in conn.execute(table.select()))


def test_secrets_never_reach_the_output_or_the_database(
    r12: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", "Tr0ub4dor&3-bmc")
    refused = r12("device", "set", "gpu-r12-u03", "--mgmt-credential", "Tr0ub4dor&3-bmc")
    assert refused.exit_code == 2
    assert "is not a secret reference" in _error(refused) and "Tr0ub4dor" not in refused.stderr
    outputs = [
        r12("device", "show", "gpu-r12-u03", "--json").stdout,
        r12("device", "list", "--json").stdout,
        r12("export", "ansible-inventory").stdout,
    ]
    assert all("Tr0ub4dor" not in out for out in outputs)
    text = _all_rows_as_text(db)
    assert "Tr0ub4dor" not in text and "env:RACKCTL_BMC_PASSWORD" in text


# import csv


def test_import_csv(r12: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "r12 serials.csv"
    sheet.write_text(
        "name,serial,asset_tag,bmc_address,mac:ens1f0np0\n"
        "gpu-r12-u03,SN-3,AT-3,10.210.0.3,AA:BB:CC:00:03:00\n"
        "gpu-r12-u11,SN-11,AT-11,10.210.0.11,aabbcc001100\n"
    )
    result = r12("import", "csv", str(sheet))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"2 row(s) imported from {sheet}: 2 device(s) changed"
    rows = {r["name"]: r for r in r12("device", "list", "gpu-r12-u[03,11]", "--json").json()}
    assert (rows["gpu-r12-u11"]["serial"], rows["gpu-r12-u11"]["mgmt"]) == ("SN-11", "ipmi://10.210.0.11")
    nic = next(
        i for i in r12("device", "show", "gpu-r12-u11", "--json").json()["interfaces"] if i["name"] == "ens1f0np0"
    )
    assert nic["mac"] == "aa:bb:cc:00:11:00"


def test_import_csv_reports_every_bad_row_and_imports_nothing(r12: Cli, tmp_path: Path, row_counts: Counts) -> None:
    sheet = tmp_path / "techs.csv"
    sheet.write_text(
        "name,serial,bmc_address,mac:ens1f0np0\n"
        "gpu-r12-u03,SN-3,10.210.0.3,aa:bb:cc:00:03:00\n"
        "gpu-r12-u11,SN-3,10.210.0.300,aa:bb:cc:00:11:00\n"
        "gpu-r12-u99,SN-99,,\n"
        "gpu-r12-u19,SN-19,,aa:bb:cc:00:19\n"
    )
    before = row_counts()
    result = r12("import", "csv", str(sheet))
    assert result.exit_code == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {sheet}, row 3, field 'bmc_address': '10.210.0.300' is not an IP address",
        f"error: {sheet}, row 3, field 'serial': serial SN-3 also on row 2",
        f"error: {sheet}, row 4, field 'name': no device named 'gpu-r12-u99' in the inventory",
        f"error: {sheet}, row 5, field 'mac:ens1f0np0': 'aa:bb:cc:00:19' is not a MAC address",
    ]
    assert "4 bad row(s): nothing was imported" in result.stderr
    assert row_counts() == before
    structure = tmp_path / "wrong.csv"
    structure.write_text("hostname,serial\nx,1\n")
    refused = r12("import", "csv", str(structure))
    assert refused.exit_code == 2 and _error(refused) == f"{structure}:1: no 'name' column"


# validate


def test_validate_clean_table_and_json(r12: Cli) -> None:
    table = r12("validate")
    assert table.exit_code == 0, table.stdout
    assert "23 passed, 0 failed" in table.stdout
    report = r12("validate", "@rack:r12", "--json").json()
    assert report["ok"] is True and len(report["checks"]) == 23
    assert set(report["checks"][0]) == {"check", "subject", "ok", "message"}
    assert {c["check"] for c in report["checks"]} == set(CHECKS)


def test_validate_fails_with_exit_1_and_failures_only(r12: Cli, db: Database) -> None:
    with db.transaction() as session:
        rack = session.scalars(select(Rack).where(Rack.name == "r12")).one()
        rack.cooling_limit_kw = 35
    table = r12("validate", "@rack:r12", "--failures")
    assert table.exit_code == 1
    assert "cooling" in table.stdout and "42.1 kW of heat, air cooling removes 35.0 kW" in table.stdout
    assert "pdu-r12-a1" not in table.stdout  # passing checks are left out
    assert "22 passed, 1 failed" in table.stdout
    report = r12("validate", "--json")
    assert report.exit_code == 1
    data = report.json()
    assert data["ok"] is False
    assert [c for c in data["checks"] if not c["ok"]] == [
        {"check": "cooling", "subject": "r12", "ok": False, "message": "42.1 kW of heat, air cooling removes 35.0 kW"}
    ]


def test_validate_refuses_an_unknown_target(r12: Cli) -> None:
    result = r12("validate", "@rack:r99")
    assert result.exit_code == 2 and _error(result) == "'@rack:r99' matches no device"


# export


def test_export_ansible_inventory(r12: Cli) -> None:
    result = r12("export", "ansible-inventory")
    assert result.exit_code == 0
    inventory = result.json()
    assert inventory["role_gpu_node"]["hosts"] == GPUS
    assert inventory["profile_h100_inference"]["hosts"] == GPUS
    assert len(inventory["rack_r12"]["hosts"]) == 12 and len(inventory["state_planned"]["hosts"]) == 12
    assert inventory["_meta"]["hostvars"]["gpu-r12-u03"]["ansible_host"] == "10.100.0.10"
    some = r12("export", "ansible-inventory", "@role:leaf").json()
    assert sorted(some["_meta"]["hostvars"]) == ["leaf-r12-a", "leaf-r12-b"]
    assert "profile_h100_inference" not in some


def test_export_refuses_a_bad_target(r12: Cli) -> None:
    result = r12("export", "ansible-inventory", "@rack:")
    assert result.exit_code == 2 and result.stdout == ""


# log


def test_log_lists_operations_newest_first(r12: Cli, db: Database) -> None:
    with db.transaction() as session:
        record(session, "anna", "power on", [TargetResult(n, True, "on") for n in GPUS[:2]])
        record(session, "ben", "power cycle", [TargetResult(GPUS[2], False, "BMC timed out")])
    rows = r12("log", "--kind", "operation", "--json").json()
    assert [(r["actor"], r["command"], r["ok"], r["summary"]) for r in rows] == [
        ("ben", "power cycle", False, "0/1 ok"),
        ("anna", "power on", True, "2/2 ok"),
    ]
    assert rows[0]["results"] == [{"target": GPUS[2], "ok": False, "message": "BMC timed out"}]
    keys = {"type", "id", "at", "started_at", "finished_at", "actor", "db_user", "command", "ok", "summary", "results"}
    assert set(rows[0]) == keys | {"targets", "interrupted"}
    on_u03 = r12("log", "--target", GPUS[0], "--kind", "operation", "--json").json()
    assert [r["command"] for r in on_u03] == ["power on"]
    assert len(r12("log", "-n", "1", "--json").json()) == 1
    table = r12("log")
    assert table.exit_code == 0 and "power cycle" in table.stdout and "FAIL" in table.stdout


def test_log_refuses_a_zero_limit(r12: Cli) -> None:
    result = r12("log", "--limit", "0")
    assert result.exit_code == 2 and result.stdout == ""
