"""Vendor CLIs over SSH against fakenos (PyPI): diff, backup and LLDP from show commands.

fakenos starts in user mode (netmiko enters enable mode; fakenos asks no enable secret, and rackctl sends
none unless the endpoint names one) and
keeps no configuration state, so pushes and rollbacks are tested against the Linux-based switches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# NOTE(fakenos 1.2): a client that leaves before opening a channel (`rackctl trust` reads the host key and
# goes) makes fakenos's server thread fail on a None channel; that thread's traceback is fakenos's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def test_eos_diff_covers_managed_blocks_only(vendor_rack: Callable[[str], str], cli: Callable[..., Any]) -> None:
    vendor_rack("eos")
    result = cli("switch", "diff", "leaf-eo-a")
    assert result.exit_code == 0, result.stderr
    diff = result.stdout
    assert "-   description old-node-03" in diff and "+   description gpu-eo-u03 ens1f0np0" in diff
    assert "-   switchport access vlan 300" in diff and "+   channel-group 1 mode active" in diff
    assert "Management1" not in diff and "username" not in diff
    assert " vlan 300\n" in diff  # an unchanged managed block is context, not a change


def test_nxos_diff_and_push_preview(vendor_rack: Callable[[str], str], cli: Callable[..., Any]) -> None:
    vendor_rack("nxos")
    rows = cli("switch", "diff", "leaf-nx-a", "--json").json()
    assert rows[0]["ok"] and rows[0]["changed"]
    assert "-   switchport trunk allowed vlan 300-301" in rows[0]["diff"]
    assert "+   switchport trunk allowed vlan 300,301" in rows[0]["diff"]
    assert "mgmt0" not in rows[0]["diff"]
    preview = cli("switch", "push", "leaf-nx-a")
    assert preview.exit_code == 0 and "nothing was pushed" in preview.stderr
    assert [e for e in cli("log", "--kind", "operation", "--json").json() if e["command"].startswith("switch")] == []


def test_backup_saves_the_running_config(vendor_rack: Callable[[str], str], cli: Callable[..., Any]) -> None:
    vendor_rack("eos")
    result = cli("switch", "backup", "leaf-eo-a", "--json")
    assert result.exit_code == 0, result.stderr
    from pathlib import Path

    saved = Path(result.json()[0]["path"]).read_text()
    assert "description old-node-03" in saved and "hostname leaf-eo-a" in saved


def test_wrong_password_is_one_error(
    vendor_rack: Callable[[str], str], cli: Callable[..., Any], monkeypatch: Any
) -> None:
    vendor_rack("eos")
    monkeypatch.setenv("RACKCTL_SWITCH_PASSWORD", "wrong")
    result = cli("switch", "diff", "leaf-eo-a")
    assert result.exit_code == 1
    assert "leaf-eo-a: " in result.stderr and "SSH login refused for user 'admin'" in result.stderr
    assert "wrong" not in result.stderr


def test_cabling_check_tells_the_technician_what_to_move(
    vendor_rack: Callable[[str], str], cli: Callable[..., Any]
) -> None:
    vendor_rack("eos")
    result = cli("cabling", "check", "leaf-eo-a")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "gpu-eo-u03 ens1f0np0 is in leaf-eo-a Et2/1; the plan says swp1: move it" not in lines
    assert "gpu-eo-u03 ens1f0np0 is in leaf-eo-a Et2/1; the plan says Ethernet1/1: move it" in lines
    assert "gpu-eo-u11 ens1f0np0 is in leaf-eo-a Et1/1; the plan says Ethernet2/1: move it" in lines
    data = cli("cabling", "check", "leaf-eo-a", "--json").json()
    assert data["ok"] is False
    ok = {(f["device"], f["port"]) for f in data["findings"] if f["ok"]}
    assert ("leaf-eo-a", "Ethernet31/1") in ok and ("leaf-eo-a", "Ethernet32/1") in ok
