"""Rendered configurations against expected files per platform (RACKCTL_UPDATE_EXPECTED=1 rewrites them)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DATA, RACKS
from rackctl.services.switch.render import port_number

EXPECTED = DATA / "expected"


def _check(platform: str, name: str, text: str) -> None:
    path = EXPECTED / platform / f"{name}.cfg"
    if os.environ.get("RACKCTL_UPDATE_EXPECTED"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing expected file {path}"
    assert text == path.read_text(), f"{name} ({platform}) differs from {path}"


@pytest.mark.parametrize("platform", sorted(RACKS))
def test_leaf_pair_renders_as_expected(
    platform: str, leaf_pair: Callable[[str], str], cli: Callable[..., object]
) -> None:
    rack = leaf_pair(platform)
    for side in ("a", "b"):
        result = cli("switch", "render", f"leaf-{rack}-{side}")
        assert result.exit_code == 0, result.stderr
        _check(platform, f"leaf-{rack}-{side}", result.stdout)
    if platform == "sonic":
        db = json.loads(cli("switch", "render", f"leaf-{rack}-a").stdout)
        assert db["PORTCHANNEL"]["PortChannel0001"]["fallback"] == "true"
        assert db["VLAN_MEMBER"]["Vlan300|PortChannel0001"] == {"tagging_mode": "untagged"}
        assert db["BREAKOUT_CFG"] == {"Ethernet112": {"brkout_mode": "4x100G"}}


@pytest.mark.parametrize(
    ("template", "rack", "switches"),
    [
        ("h100-4node-air", "r12", [("eos", "leaf-r12-a"), ("cumulus", "mgmt-r12")]),
        ("h100-pod-2rack-ib", "p1", [("onyx", "ib-p1-1"), ("onyx", "ib-p1-2")]),
    ],
)
def test_shipped_templates_render_as_expected(
    template: str, rack: str, switches: list[tuple[str, str]], cli: Callable[..., object]
) -> None:
    assert cli("rack", "create", rack, "-t", template, "-s", "fra1").exit_code == 0
    for platform, name in switches:
        result = cli("switch", "render", name)
        assert result.exit_code == 0, result.stderr
        _check(platform, name, result.stdout)


def test_render_writes_files_and_json(cli: Callable[..., object], tmp_path: Path) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    written = cli("switch", "render", "leaf-r12-a,leaf-r12-b", "--out", str(tmp_path / "cfg"))
    assert written.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "cfg").iterdir()) == ["leaf-r12-a.cfg", "leaf-r12-b.cfg"]
    rows = cli("switch", "render", "@role:leaf", "--json").json()
    assert [(r["switch"], r["platform"]) for r in rows] == [("leaf-r12-a", "eos"), ("leaf-r12-b", "eos")]
    assert "mlag 1" in rows[0]["config"] and "port-channel lacp fallback individual" in rows[0]["config"]


def test_render_refuses_a_node(cli: Callable[..., object]) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    result = cli("switch", "render", "gpu-r12-u03")
    assert result.exit_code == 2
    assert "not switches: gpu-r12-u03" in result.stderr


def test_port_numbers() -> None:
    assert [port_number(n) for n in ("Ethernet1/29", "Ethernet29", "swp7", "Ethernet112")] == [29, 29, 7, 112]
