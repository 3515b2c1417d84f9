"""BMC accounts and password rotation against writable Redfish mockups and a real ipmi_sim."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import OperationResult
from rackctl.secrets import write_private
from tests.bmcconfig.conftest import PASSWORD

ACCOUNT = "/redfish/v1/AccountService/Accounts/1"


def _secret(folder: Path, name: str, value: str = PASSWORD) -> Path:
    """A secret where references may point (the test's secret folder), 0600 from its first byte."""
    path = folder / name
    write_private(path, value + "\n")
    return path


def _point(run, node: str, path: Path) -> None:
    assert run.cli("device", "set", node, "--mgmt-credential", f"file:{path}").exit_code == 0


def test_users_lists_accounts_and_flags_factory_defaults(fleet):
    run = fleet(nodes=1, username="Administrator")
    code, rows = run.json("bmc", "users", "gpu-r12-u03")
    assert code == 0
    value = rows[0]["value"]
    assert [(a["id"], a["username"], a["role"], a["enabled"]) for a in value["accounts"]] == [
        ("1", "Administrator", "Administrator", True)
    ]
    assert value["flagged"] == ["Administrator (HPE iLO (Administrator))"]


def test_rotate_sets_proves_and_then_rewrites_the_reference(fleet, secret_folder, db: Database):
    run = fleet(nodes=1, username="Administrator")
    secret = _secret(secret_folder, "u03.pw")
    _point(run, "gpu-r12-u03", secret)
    result = run.cli("bmc", "rotate", "gpu-r12-u03", "--yes", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    new = secret.read_text().strip()
    server = run.servers["gpu-r12-u03"]
    # DMTF's AccountService gives MinPasswordLength 8 and no maximum: 16, the IPMI-safe length
    assert new != PASSWORD and len(new) == 16 and server.password == new
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not list(secret_folder.glob("u03.pw.pending")) and not list(secret_folder.glob(".u03.pw.*"))
    (patch,) = server.made("PATCH", ACCOUNT)
    assert patch.body == {"Password": new}
    with db.transaction() as session:
        logged = " ".join(f"{r.message} {r.detail}" for r in session.scalars(select(OperationResult)))
    assert new not in logged and PASSWORD not in logged


def test_a_new_password_that_does_not_log_in_keeps_the_old_one(fleet, secret_folder):
    run = fleet(nodes=1, username="Administrator")
    secret = _secret(secret_folder, "u03.pw")
    _point(run, "gpu-r12-u03", secret)
    run.servers["gpu-r12-u03"].writes.ignore_passwords = True  # answers 204 and keeps the old password
    result = run.cli("bmc", "rotate", "gpu-r12-u03", "--yes", "--json")
    assert result.exit_code == 1
    row = result.json()[0]
    assert row["error"] == "the BMC took the new password but a login with it failed; the old one still works"
    assert row["detail"] == {"working": "old"}
    assert secret.read_text() == PASSWORD + "\n" and not (secret_folder / "u03.pw.pending").exists()


def test_a_reference_that_breaks_after_the_new_login_keeps_the_new_password_and_says_where(fleet, secret_folder):
    run = fleet(nodes=1, username="Administrator")
    secret = _secret(secret_folder, "u03.pw")
    _point(run, "gpu-r12-u03", secret)
    server = run.servers["gpu-r12-u03"]
    record = server.record

    def meanwhile(request):  # while the BMC takes the new password, someone puts a folder where the file was
        record(request)
        if request.method == "PATCH" and secret.is_file():
            secret.unlink()
            secret.mkdir()

    server.record = meanwhile
    result = run.cli("bmc", "rotate", "gpu-r12-u03", "--yes", "--json")
    assert result.exit_code == 1
    row = result.json()[0]
    pending = secret_folder / "u03.pw.pending"
    assert row["detail"] == {"working": "new"}
    assert row["error"].startswith(f"the new password works but file:{secret} could not be rewritten")
    assert row["error"].endswith(f"it is kept in {pending}")
    assert pending.read_text() == server.password + "\n" and server.password != PASSWORD
    assert stat.S_IMODE(pending.stat().st_mode) == 0o600


def test_a_reference_rackctl_cannot_write_is_refused_before_any_change(fleet, secret_folder):
    run = fleet(nodes=2, username="Administrator")
    _point(run, "gpu-r12-u11", _secret(secret_folder, "u11.pw"))  # u03 keeps env:RACKCTL_BMC_PASSWORD
    result = run.cli("bmc", "rotate", "gpu-r12-u[03,11]", "--yes", "--json")
    assert result.exit_code == 1
    rows = {r["target"]: r for r in result.json()}
    assert rows["gpu-r12-u03"]["error"].startswith("refused before any change: secret reference env:")
    assert rows["gpu-r12-u11"]["ok"]
    assert not run.servers["gpu-r12-u03"].made("PATCH", ACCOUNT)


def test_a_shared_reference_rotates_all_or_none(fleet, secret_folder):
    run = fleet(nodes=2, username="Administrator")
    shared = _secret(secret_folder, "shared.pw")
    for node in run.servers:
        _point(run, node, shared)
    refused = run.cli("bmc", "rotate", "gpu-r12-u[03,11]", "--yes", "--json")
    assert refused.exit_code == 1
    assert all("2 BMCs share" in r["error"] and "--shared" in r["error"] for r in refused.json())
    run.servers["gpu-r12-u11"].writes.ignore_passwords = True
    result = run.cli("bmc", "rotate", "gpu-r12-u[03,11]", "--shared", "--yes", "--json")
    rows = {r["target"]: r for r in result.json()}
    assert rows["gpu-r12-u03"]["error"].startswith("set back to the old password")
    assert rows["gpu-r12-u11"]["detail"] == {"working": "old"}
    assert shared.read_text() == PASSWORD + "\n"
    assert run.servers["gpu-r12-u03"].password == PASSWORD  # set back: the shared reference is true again
    run.servers["gpu-r12-u11"].writes.ignore_passwords = False
    result = run.cli("bmc", "rotate", "gpu-r12-u[03,11]", "--shared", "--yes", "--json")
    assert result.exit_code == 0, result.stdout
    new = shared.read_text().strip()
    assert {s.password for s in run.servers.values()} == {new} and new != PASSWORD


def test_ipmi_user_slots_and_set_user_password_on_ipmi_sim(cli, db, ipmi_bmc, secret_folder, monkeypatch):
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    secret = _secret(secret_folder, "ipmi.pw")
    args = ("--mgmt-address", ipmi_bmc.address, "--mgmt-port", "623", "--mgmt-credential", f"file:{secret}")
    assert cli("device", "set", "gpu-r12-u03", *args).exit_code == 0
    users = cli("bmc", "users", "gpu-r12-u03", "--json", "--timeout", "60")
    assert users.exit_code == 0, users.stderr
    (account,) = users.json()[0]["value"]["accounts"]
    assert (account["id"], account["username"], account["role"]) == ("2", "admin", "administrator")
    result = cli("bmc", "rotate", "gpu-r12-u03", "--yes", "--json", "--timeout", "60")
    assert result.exit_code == 0, result.stdout + result.stderr
    new = secret.read_text().strip()
    assert new != PASSWORD and len(new) == 16  # ipmi_sim keeps only 16 bytes of a 20-byte Set User Password
    # the new password logs in over RMCP+ and the old one no longer does (ipmi_sim checks them itself)
    assert cli("power", "status", "gpu-r12-u03", "--timeout", "60").exit_code == 0
    assert cli("device", "set", "gpu-r12-u03", "--mgmt-credential", "env:RACKCTL_BMC_PASSWORD").exit_code == 0
    old = cli("power", "status", "gpu-r12-u03", "--json", "--retries", "0")
    assert old.exit_code == 1 and old.json()[0]["error_type"] == "AuthError"


def test_an_ipmi_slot_with_a_factory_account_name_is_flagged(cli, db, ipmi_factory_bmc, monkeypatch):
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    args = ("--mgmt-address", ipmi_factory_bmc.address, "--mgmt-port", "623", "--mgmt-username", "ADMIN")
    assert cli("device", "set", "gpu-r12-u03", *args).exit_code == 0
    users = cli("bmc", "users", "gpu-r12-u03", "--json", "--timeout", "60")
    assert users.exit_code == 0, users.stderr
    value = users.json()[0]["value"]
    # slot 2 as ipmi_sim's LAN config declares it; ADMIN/ADMIN is Supermicro's factory account (boards before 2020)
    assert [(a["id"], a["username"], a["enabled"]) for a in value["accounts"]] == [("2", "ADMIN", True)]
    assert value["flagged"] == ["ADMIN (Supermicro (ADMIN/ADMIN))"]


def test_ipmi_firmware_is_the_bmc_version_and_the_profile_columns_are_a_baseline(cli, db, ipmi_bmc, monkeypatch):
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("device", "set", "gpu-r12-u03", "--mgmt-address", ipmi_bmc.address, "--mgmt-port", "623").exit_code == 0
    inventory = cli("firmware", "inventory", "gpu-r12-u03", "--json", "--timeout", "60")
    assert inventory.exit_code == 0, inventory.stderr
    components = inventory.json()[0]["value"]
    assert [(c["kind"], c["updateable"]) for c in components if c["kind"] == "bmc"] == [("bmc", False)]
    plan = cli("firmware", "plan", "gpu-r12-u03", "--json", "--timeout", "60")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    value = plan.json()[0]["value"]
    # the lab's ipmi_sim says firmware 1.0 (Get Device ID); the profile's bmc_firmware is 1.02.04
    assert [(s["kind"], s["wanted"]["version"]) for s in value["steps"]] == [("bmc", "1.02.04")]
    assert value["missing"] == ["bios"]  # IPMI names no BIOS version


def test_the_bmc_firmware_revision_reads_as_ipmitool_prints_it(cli, db, ipmi_bmc_102, monkeypatch):
    """Get Device ID's minor revision is BCD: ipmitool, on the same ipmi_sim, is the reading to match."""
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    address = ipmi_bmc_102.address
    assert cli("device", "set", "gpu-r12-u03", "--mgmt-address", address, "--mgmt-port", "623").exit_code == 0
    inventory = cli("firmware", "inventory", "gpu-r12-u03", "--json", "--timeout", "60")
    assert inventory.exit_code == 0, inventory.stderr
    versions = [c["version"] for c in inventory.json()[0]["value"] if c["kind"] == "bmc"]
    ipmitool = subprocess.run(  # the password through the environment (-E), never on the command line
        ["ipmitool", "-I", "lanplus", "-C", "3", "-H", address, "-U", "admin", "-E", "mc", "info"],
        env={**os.environ, "IPMI_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ipmitool.returncode == 0, ipmitool.stderr
    revision = re.search(r"^Firmware Revision\s*:\s*(\S+)$", ipmitool.stdout, re.MULTILINE)
    assert revision is not None, ipmitool.stdout
    assert versions == [revision[1]] == ["1.02"]


def test_a_shared_password_is_not_rotated_while_another_run_holds_one_of_its_bmcs(fleet, secret_folder, db: Database):
    from rackctl.services import leases

    run = fleet(nodes=2, username="Administrator")
    shared = _secret(secret_folder, "shared.pw")
    for node in run.servers:
        _point(run, node, shared)
    lease = leases.acquire(db, ["gpu-r12-u03"], "cycled", "alice")
    try:
        result = run.cli("bmc", "rotate", "gpu-r12-u[03,11]", "--shared", "--yes", "--json")
    finally:
        lease.release()
    assert result.exit_code == 1
    rows = {r["target"]: r["error"] for r in result.json()}
    assert rows["gpu-r12-u03"].startswith("gpu-r12-u03 is being cycled by alice since ")
    assert rows["gpu-r12-u11"] == "not rotated: its shared password is also on gpu-r12-u03, which another run holds"
    assert not any(server.made("PATCH", ACCOUNT) for server in run.servers.values())
    assert shared.read_text() == PASSWORD + "\n"
