"""Files that hold secrets are owner-only from their first byte, and secrets stay off command lines.

Each case was world-readable (or on argv) before: the lab's ipmi_sim LAN configuration (the BMC password),
snmpsim's SNMPv3 keys on its command line, switch backups (password hashes, SNMP and TACACS keys).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rackctl.lab import core, ipmi, processes, snmp, tls
from rackctl.lab.state import LabState
from rackctl.services.switch.ops import save_backup


def mode(path: Path | str) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


@pytest.fixture
def no_umask() -> object:
    """The most careless umask: whatever rackctl creates must be owner-only by itself, not by luck."""
    old = os.umask(0)
    yield None
    os.umask(old)


def test_lab_secrets_and_their_folder(tmp_path: Path, no_umask: object) -> None:
    lab = LabState("t", str(tmp_path / "lab"), "rkfm")
    lab.secret_folder = str(core._secret_folder(core.LabOptions(secret_dir=tmp_path / "secrets"), lab))
    path = Path(core.secret_file(lab, "bmc-password"))
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(tmp_path / "secrets") == 0o700
    assert len(path.read_text().strip()) >= 16


def test_ipmi_sim_lan_configuration(tmp_path: Path, no_umask: object) -> None:
    folder = tmp_path / "bmc"
    ipmi.prepare(ipmi.SimNode("n1"), folder, "127.0.0.1", "admin", "lab-password", tmp_path / "chassis-control")
    assert "lab-password" in (folder / "lan.conf").read_text()
    assert mode(folder / "lan.conf") == 0o600


def test_snmpv3_keys_are_not_on_snmpsims_command_line(tmp_path: Path) -> None:
    folder = tmp_path / "pdu"
    user = snmp.V3User("rackctl", "auth-key-on-argv?", "priv-key-on-argv?")
    walk = "1.3.6.1.2.1.1.5.0|4|pdu\n"
    pid = snmp.serve(folder, "127.43.2.1", 16161, "public", walk, v3=user)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert user.auth_key not in argv and user.priv_key not in argv
        assert user.auth_key in (folder / "engine.args").read_text()
        assert mode(folder / "engine.args") == 0o600 and mode(folder) == 0o700
        assert snmp.wait_answering([("127.43.2.1", 16161, "public")], timeout=40.0) == []
    finally:
        processes.stop([pid])


def test_switch_backups(tmp_path: Path, no_umask: object) -> None:
    (tmp_path / "switch-backups" / "leaf-r1-a").mkdir(parents=True, mode=0o755)  # made by an older rackctl
    path = save_backup(tmp_path, "leaf-r1-a", "username admin secret sha512 $6$...\n")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700


def test_lab_tls_keys(tmp_path: Path, no_umask: object) -> None:
    cert, key = tls.write_issued(tmp_path / "tls", "bmc", tls.issue(None, "bmc", ["127.0.0.1"]))
    assert mode(key) == 0o600 and mode(tmp_path / "tls") == 0o700
    assert "PRIVATE KEY" not in Path(cert).read_text()
