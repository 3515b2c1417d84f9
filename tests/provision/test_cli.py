"""`rackctl provision` and `rackctl bringup`: refusals before anything runs, and the bring-up summary."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def rack(cli) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0


def test_provision_refuses_a_switch_before_running(cli, rack: None) -> None:
    result = cli("provision", "leaf-r12-a")
    assert result.exit_code == 2
    assert "leaf-r12-a is a leaf: only gpu-node devices are provisioned" in result.stderr
    assert cli("log", "--kind", "operation", "--json").json() == []


def test_provision_refuses_a_missing_inventory_override(cli, rack: None, tmp_path: Path) -> None:
    result = cli("provision", "gpu-r12-u03", "-i", str(tmp_path / "absent.yml"))
    assert result.exit_code == 2
    assert f"inventory override not found: {tmp_path / 'absent.yml'}" in result.stderr


def test_provision_refuses_extra_vars_that_are_not_a_mapping(cli, rack: None, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yml"
    extra.write_text("- just\n- a list\n")
    result = cli("provision", "gpu-r12-u03", "--extra-vars", str(extra))
    assert result.exit_code == 2
    assert f"{extra}: must be a mapping of variable names to values" in result.stderr


def test_bringup_summary_tells_the_technician_what_to_do(cli, rack: None, tmp_path: Path) -> None:
    # A BMC that refuses the inventory's password stops both nodes at the first step, with a hint.
    assert cli("lab", "up", "--no-hosts").exit_code == 0
    try:
        assert cli("lab", "fault", "gpu-r12-u03", "wrong-password").exit_code == 0
        assert cli("lab", "fault", "gpu-r12-u11", "wrong-password").exit_code == 0
        assert cli("device", "set", "gpu-r12-u[03,11]", "--state", "racked", "--reason", "mounted").exit_code == 0
        result = cli("bringup", "gpu-r12-u[03,11]", "--json")
        assert result.exit_code == 1
        reports = result.json()
        assert [(r["node"], r["ok"], r["failed_step"], r["end"]) for r in reports] == [  # type: ignore[union-attr]
            ("gpu-r12-u03", False, "bmc", "failed"),
            ("gpu-r12-u11", False, "bmc", "failed"),
        ]
        assert "refused the credentials" in reports[0]["message"]  # type: ignore[index]
        table = cli("bringup", "gpu-r12-u03")
        assert table.exit_code == 1
        assert "refuses the inventory's credentials" in table.stdout
    finally:
        cli("lab", "down")
