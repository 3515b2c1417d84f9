"""diff/push/backup/rollback against real SSH peers: Linux-based switches (sshd in network namespaces)."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import linux_leaves, set_endpoint
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Profile
from rackctl.lab.switches import LinuxSwitch
from rackctl.services import hostkeys

PREFIX = "rksw"
# Host numbers of this suite's switches (10.250.27.x): other suites' lab hosts start at 0 and may run at once.
PORTS = ["swp1", "swp2", "swp3", "swp31", "swp32"]
# What the switches ran before rackctl: swp1 at a standard MTU.
INITIAL = "auto lo\niface lo inet loopback\n\nauto swp1\niface swp1\n    mtu 1500\n"


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, LinuxSwitch], Path]]:
    yield from linux_leaves(PREFIX, PORTS, tmp_path_factory.mktemp("linux-switches"))


def ip(switch: LinuxSwitch, *args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", "-n", switch.host.namespace, *args], capture_output=True, text=True, check=check)
    return done.stdout


def mtu(switch: LinuxSwitch, port: str) -> int:
    return int(json.loads(ip(switch, "-j", "link", "show", port))[0]["mtu"])


@pytest.fixture
def lx(
    peers: tuple[dict[str, LinuxSwitch], Path],
    leaf_pair: Callable[[str], str],
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, LinuxSwitch]:
    """The linux test rack, its leaves pointed at freshly reset lab switches."""
    switches, key = peers
    leaf_pair("linux")
    for name, switch in switches.items():
        switch.config_file.write_text(INITIAL)
        (switch.config_file.parent / "ifreload.skip").unlink(missing_ok=True)
        for port in PORTS:
            if ip(switch, "link", "show", port, check=False) == "":
                ip(switch, "link", "add", port, "type", "veth", "peer", "name", f"{port}p")
            ip(switch, "link", "set", port, "mtu", "1500")
        set_endpoint(db, name, switch.host.address, 22, "root", switch.endpoint_options_for(key), key)
    monkeypatch.delenv("RACKCTL_SWITCH_PASSWORD", raising=False)
    return switches


def _set_credential_free(db: Database) -> None:
    from rackctl.inventory.models import ManagementEndpoint

    with db.transaction() as session:
        for endpoint in session.scalars(select(ManagementEndpoint)):
            endpoint.credential_ref = ""


def test_push_without_yes_only_shows_the_diff(
    lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database
) -> None:
    _set_credential_free(db)
    result = cli("switch", "push", "leaf-lx-a")
    assert result.exit_code == 0, result.stderr
    assert "+    alias gpu-lx-u03 ens1f0np0" in result.stdout and "-    mtu 1500" in result.stdout
    assert "nothing was pushed: pass --yes to apply" in result.stderr
    assert lx["leaf-lx-a"].config_file.read_text() == INITIAL


def test_push_applies_verifies_and_logs(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    result = cli("switch", "push", "leaf-lx-a", "leaf-lx-b", "--yes", "--json")
    assert result.exit_code == 0, result.stdout
    rows = result.json()
    assert [(r["switch"], r["ok"], r["changed"]) for r in rows] == [
        ("leaf-lx-a", True, True),
        ("leaf-lx-b", True, True),
    ]
    rendered = cli("switch", "render", "leaf-lx-a").stdout
    assert lx["leaf-lx-a"].config_file.read_text() == rendered
    assert mtu(lx["leaf-lx-a"], "swp1") == 9216 and mtu(lx["leaf-lx-b"], "swp32") == 9216
    assert Path(rows[0]["backup"]).read_text().strip() == INITIAL.strip()
    again = cli("switch", "push", "leaf-lx-a", "--yes", "--json").json()
    assert again[0]["changed"] is False
    log = cli("log", "--kind", "operation", "--json").json()
    assert log[0]["command"] == "switch push leaf-lx-a --yes --json" or log[0]["command"].startswith("switch push")
    assert [(r["target"], r["ok"]) for r in log[1]["results"]] == [("leaf-lx-a", True), ("leaf-lx-b", True)]
    assert cli("switch", "diff", "leaf-lx-a").stdout.strip() == "leaf-lx-a: running configuration matches the inventory"


def test_push_failing_midway_is_rolled_back(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    switch = lx["leaf-lx-a"]
    ip(switch, "link", "del", "swp31")  # ifreload sets swp1 and swp2, then fails on the missing port
    result = cli("switch", "push", "leaf-lx-a", "--yes", "--json")
    assert result.exit_code == 1
    detail = result.json()[0]["detail"]
    assert "apply failed" in detail and "swp31: no such port" in detail and "rolled back" in detail
    assert switch.config_file.read_text() == INITIAL
    assert mtu(switch, "swp1") == 1500
    assert cli("log", "--kind", "operation", "--json").json()[0]["results"][0]["ok"] is False


def test_verification_failure_rolls_back(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    switch = lx["leaf-lx-a"]
    (switch.config_file.parent / "ifreload.skip").write_text("swp2\n")  # accepted, never run
    result = cli("switch", "push", "leaf-lx-a", "--yes")
    assert result.exit_code == 1
    assert "verification failed" in result.stdout and "swp2: mtu is 1500, the configuration says 9216" in result.stdout
    assert "rolled back" in result.stdout
    assert switch.config_file.read_text() == INITIAL
    assert mtu(switch, "swp1") == 1500


def test_bad_intent_is_refused_before_anything_is_pushed(
    lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database
) -> None:
    _set_credential_free(db)
    with db.transaction() as session:
        profile = session.scalars(select(Profile).where(Profile.name == "roce-inference")).one()
        profile.extra = {**profile.extra, "vlans": {"tenant": 0, "storage": 301, "management": 30}}
    result = cli("switch", "push", "leaf-lx-a", "--yes")
    assert result.exit_code == 2
    assert "profile roce-inference: tenant VLAN 0 is out of range 2-4093" in result.stderr
    assert lx["leaf-lx-a"].config_file.read_text() == INITIAL
    assert [e for e in cli("log", "--kind", "operation", "--json").json() if e["command"].startswith("switch")] == []


def test_backup_and_diff(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    saved = cli("switch", "backup", "leaf-lx-a", "leaf-lx-b", "--json")
    assert saved.exit_code == 0, saved.stderr
    paths = [Path(r["path"]) for r in saved.json()]
    assert all(p.read_text().strip() == INITIAL.strip() for p in paths)
    assert paths[0].parent.name == "leaf-lx-a" and paths[0].parent.parent.name == "switch-backups"
    diff = cli("switch", "diff", "leaf-lx-b", "--json").json()
    assert diff[0]["changed"] and "+auto bridge" in diff[0]["diff"]


def test_unreachable_switch_fails_alone(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    set_endpoint(db, "leaf-lx-b", "127.0.0.1", 9, "root", {"device_type": "linux", "timeout": 2})
    result = cli("switch", "diff", "leaf-lx-a", "leaf-lx-b", "--json")
    assert result.exit_code == 1
    rows = {r["switch"]: r for r in result.json()}
    assert rows["leaf-lx-a"]["ok"] and rows["leaf-lx-a"]["changed"]
    assert not rows["leaf-lx-b"]["ok"] and "leaf-lx-b" in rows["leaf-lx-b"]["error"]


def test_a_switch_presenting_another_host_key_gets_nothing(
    lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database, tmp_path: Path
) -> None:
    """The spoof: the inventory pins another key than the one the address presents. Nothing is pushed."""
    _set_credential_free(db)
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, blob = other.with_suffix(".pub").read_text().split()[:2]
    with db.transaction() as session:
        hostkeys.pin_known(session, "tester", [queries.device(session, "leaf-lx-a")], kind, blob, "test")
    result = cli("switch", "push", "leaf-lx-a", "--yes", "--json")
    assert result.exit_code == 1
    (row,) = result.json()
    assert "SSH HOST KEY CHANGED" in row["detail"] and "nothing was sent to it" in row["detail"]
    assert lx["leaf-lx-a"].config_file.read_text() == INITIAL
    assert cli("switch", "diff", "leaf-lx-a", "--trust-new-keys").exit_code == 1  # a pin is never overridden


def test_a_switch_with_no_pin_is_refused_until_trusted(
    lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database
) -> None:
    _set_credential_free(db)
    with db.transaction() as session:
        device = queries.device(session, "leaf-lx-a")
        device.host_keys.clear()
    refused = cli("switch", "backup", "leaf-lx-a")
    assert refused.exit_code == 1 and "no SSH host key is pinned in the inventory" in refused.stderr
    assert "rackctl trust leaf-lx-a" in refused.stderr
    trusted = cli("switch", "backup", "leaf-lx-a", "--trust-new-keys")
    assert trusted.exit_code == 0, trusted.stderr
    assert "trusted the SSH host key of leaf-lx-a" in trusted.stderr
    (entry,) = [
        e
        for e in cli("log", "--kind", "operation", "--json").json()
        if e["command"] == "switch backup --trust-new-keys"
    ]
    assert [r["target"] for r in entry["results"]] == ["leaf-lx-a"]


def test_backups_are_owner_only(lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database) -> None:
    _set_credential_free(db)
    saved = cli("switch", "backup", "leaf-lx-a", "--json")
    assert saved.exit_code == 0, saved.stderr
    path = Path(saved.json()[0]["path"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


def test_an_mlag_pair_is_pushed_one_peer_at_a_time(
    lx: dict[str, LinuxSwitch], cli: Callable[..., Any], db: Database
) -> None:
    _set_credential_free(db)
    ip(lx["leaf-lx-a"], "link", "del", "swp31")  # the first peer's push fails (and is rolled back)
    result = cli("switch", "push", "leaf-lx-a", "leaf-lx-b", "--yes", "--json")
    assert result.exit_code == 1
    rows = {r["switch"]: r for r in result.json()}
    assert "rolled back" in rows["leaf-lx-a"]["detail"]
    assert rows["leaf-lx-b"]["detail"] == (
        "not pushed: its MLAG peer leaf-lx-a failed, and the pair must keep one working switch"
    )
    assert lx["leaf-lx-b"].config_file.read_text() == INITIAL  # never touched: its nodes keep their network
    logged = cli("log", "--kind", "operation", "--json").json()[0]
    assert [(r["target"], r["ok"]) for r in logged["results"]] == [("leaf-lx-a", False), ("leaf-lx-b", False)]
