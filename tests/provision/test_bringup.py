"""Bring-up from powered to validated on booted systemd-nspawn machines (real systemd, services, burn-in), with a
real sshd on loopback as what the SSH wait sees; and the out-of-band steps' failure while they are not there yet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.services import oplog
from rackctl.services.bringup import Settings, bringup, plan
from rackctl.types import NodeState
from tests.provision.harness import Fleet, Lab, free_port, node_state, set_profile, set_state, spec

GOOD, SLOW = "gpu-r12-u19", "gpu-r12-u27"


def test_bringup_validates_one_node_and_fails_the_other_on_its_bandwidth_floor(
    fleet: Fleet, lab: Lab, inventory: Database, sshd: int, tmp_path: Path
) -> None:
    for node in (GOOD, SLOW):
        lab.target(node, boot=True, layers=(fleet.converged_layer,))
        set_state(inventory, node, NodeState.POWERED)
    set_profile(inventory, SLOW, extra={"burnin": {"nccl_busbw_gbps": 9999}})
    ssh = {"ansible_host": "127.0.0.1", "ansible_port": sshd}
    override = lab.override(hosts={GOOD: ssh, SLOW: ssh})
    settings = Settings(run=spec(inventory, (), override, tmp_path / "ansible"), ssh_timeout_s=20)

    good, slow = bringup(inventory, [GOOD, SLOW], settings, "tester")

    assert (good.ok, good.start, good.end, good.steps) == (True, "powered", "validated", ["ssh", "provision", "burnin"])
    assert (slow.ok, slow.end, slow.failed_step) == (False, NodeState.FAILED, "burnin")
    assert slow.steps == ["ssh", "provision"]
    assert slow.message == (
        "burnin : Check the bus bandwidth floor: nccl-tests all_reduce_perf bus bandwidth 360.245 GB/s "
        "is below the floor of 9999 GB/s"
    )
    assert slow.hint.startswith("check NVLink/NVSwitch health")
    assert lab.targets[0].run("systemctl", "is-active", "nvidia-fabricmanager.service").stdout.strip() == "active"
    state, reason = node_state(inventory, GOOD)
    assert state == NodeState.VALIDATED and "nccl_busbw_gbps=360.245" in reason
    assert node_state(inventory, SLOW)[0] == NodeState.FAILED
    with inventory.transaction() as session:
        last = next(iter(oplog.recent(session, 1)))
        assert (last.command, last.ok) == ("bringup", False)
        assert [(r.target, r.ok) for r in last.results] == [(GOOD, True), (SLOW, False)]

    # The technician fixes the cause; a rerun resumes the failed node after provisioning, at burn-in.
    set_profile(inventory, SLOW, extra={"burnin": {"nccl_busbw_gbps": 350}})
    [again] = bringup(inventory, [SLOW], settings, "tester")
    assert (again.ok, again.start, again.end, again.steps) == (True, "provisioned", "validated", ["ssh", "burnin"])


def test_bringup_before_power_stops_at_the_bmc_and_says_what_to_do(
    inventory: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", "not-used-yet")
    set_state(inventory, "gpu-r12-u03", NodeState.CABLED)
    override = tmp_path / "none.yml"
    override.write_text("all: {}\n")
    settings = Settings(run=spec(inventory, (), override, tmp_path / "ansible"))
    [report] = bringup(inventory, ["gpu-r12-u03"], settings, "tester")
    assert (report.ok, report.failed_step, report.message) == (False, "bmc", "out-of-band control not available yet")
    assert report.hint.startswith("power the node on by hand")
    failed = (NodeState.FAILED, "bringup bmc: out-of-band control not available yet")
    assert node_state(inventory, "gpu-r12-u03") == failed
    [rerun] = bringup(inventory, ["gpu-r12-u03"], settings, "tester")
    assert (rerun.start, rerun.failed_step) == (NodeState.CABLED, "bmc")


def test_bringup_gives_up_on_a_node_without_ssh(inventory: Database, tmp_path: Path) -> None:
    set_state(inventory, "gpu-r12-u11", NodeState.POWERED)
    override = tmp_path / "nossh.yml"
    override.write_text(f"all:\n  hosts:\n    gpu-r12-u11: {{ansible_host: 127.0.0.1, ansible_port: {free_port()}}}\n")
    run = spec(inventory, (), override, tmp_path / "ansible")
    settings = replace(Settings(run=run), ssh_timeout_s=1, ssh_poll_s=0.2)
    [report] = bringup(inventory, ["gpu-r12-u11"], settings, "tester")
    assert (report.ok, report.failed_step) == (False, "ssh")
    assert report.message.startswith("no SSH on 127.0.0.1:")
    assert "did the PXE install finish" in report.hint


def test_plan_resumes_from_each_state() -> None:
    assert [s.name for s in plan(NodeState.RACKED)] == ["bmc", "pxe", "power", "ssh", "provision", "burnin"]
    assert [s.name for s in plan(NodeState.POWERED)] == ["ssh", "provision", "burnin"]
    assert [s.name for s in plan(NodeState.PROVISIONED)] == ["ssh", "burnin"]
    assert plan(NodeState.VALIDATED) == []
