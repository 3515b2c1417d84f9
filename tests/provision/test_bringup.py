"""Bring-up from powered to validated on booted systemd-nspawn machines (real systemd, services, burn-in), with a
real sshd on loopback as what the SSH wait sees; and the out-of-band steps against the lab's simulated BMCs."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.lab import core, faults
from rackctl.lab import state as lab_state
from rackctl.services import oplog
from rackctl.services.bringup import Settings, bringup, plan, steps
from rackctl.services.bringup.steps import Node
from rackctl.services.provision import RunSpec
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
        "burnin : Check the bus bandwidth floor: nccl-tests all_reduce_perf bus bandwidth 458.51 GB/s "
        "(lowest at >= 1 GiB messages) is below the floor of 9999 GB/s"
    )
    assert slow.hint.startswith("check NVLink/NVSwitch health")
    for unit in ("nvidia-fabricmanager.service", "rackctl-serving.service", "nvidia-dcgm-exporter.service"):
        assert lab.targets[0].run("systemctl", "is-active", unit).stdout.strip() == "active", unit
    state, reason = node_state(inventory, GOOD)
    assert state == NodeState.VALIDATED and "nccl_busbw_gbps=458.51" in reason
    assert "ecc_uncorrectable=0" in reason and "nvlinks_inactive=0" in reason and "tokens_per_s=" in reason
    assert node_state(inventory, SLOW)[0] == NodeState.FAILED
    with inventory.transaction() as session:
        last = next(iter(oplog.recent(session, 1)))
        assert (last.command, last.ok) == ("bringup", False)
        assert [(r.target, r.ok) for r in last.results] == [(GOOD, True), (SLOW, False)]

    # The technician fixes the cause; a rerun resumes the failed node after provisioning, at burn-in.
    set_profile(inventory, SLOW, extra={"burnin": {"nccl_busbw_gbps": 350}})
    [again] = bringup(inventory, [SLOW], settings, "tester")
    assert (again.ok, again.start, again.end, again.steps) == (True, "provisioned", "validated", ["ssh", "burnin"])


def test_bringup_stops_at_a_dead_bmc_says_what_to_do_and_resumes_after_the_fix(
    inventory: Database, tmp_path: Path
) -> None:
    # The out-of-band steps against the lab's simulated BMCs (ipmi_sim on loopback).
    node = "gpu-r12-u03"
    set_state(inventory, node, NodeState.CABLED)
    state_dir = tmp_path / "state"
    core.up(inventory, state_dir, core.LabOptions("bringup", ("r12",), hosts=False))
    try:
        folder = lab_state.lab_folder(state_dir, "bringup")
        faults.inject(folder, node, "bmc-dead")
        override = tmp_path / "nossh.yml"
        override.write_text(f"all:\n  hosts:\n    {node}: {{ansible_host: 127.0.0.1, ansible_port: {free_port()}}}\n")
        settings = replace(
            Settings(run=spec(inventory, (), override, tmp_path / "ansible")), ssh_timeout_s=1, ssh_poll_s=0.2
        )
        [report] = bringup(inventory, [node], settings, "tester")
        assert (report.ok, report.failed_step) == (False, "bmc")
        assert "no answer from the BMC" in report.message
        assert f"rackctl power cycle {node} --via pdu" in report.hint
        assert node_state(inventory, node)[0] == NodeState.FAILED

        faults.heal(folder)
        [rerun] = bringup(inventory, [node], settings, "tester")
        assert rerun.start == NodeState.CABLED
        assert (rerun.steps, rerun.failed_step) == (["bmc", "pxe", "power"], "ssh")
        lab = lab_state.load(folder)
        assert lab is not None
        assert (Path(lab.bmcs[node].folder) / "power").read_text().strip() == "1"
        assert (Path(lab.bmcs[node].folder) / "boot").read_text().strip() == "pxe"
    finally:
        core.down(inventory, state_dir, "bringup")


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


def test_the_ssh_wait_pins_the_installed_node_s_key_only_with_trust_new_keys(
    inventory: Database, sshd: int, sshd_host_key: Path, tmp_path: Path
) -> None:
    """A freshly installed node presents a key nobody has seen: `bringup --trust-new-keys` pins the one that
    answers where bring-up reaches it (logged); without it nothing is pinned and provisioning will refuse."""
    node = "gpu-r12-u11"
    run = RunSpec(hosts=(), db_url=inventory.url, state_dir=tmp_path / "ansible")
    waiting = Node(node, NodeState.POWERED, 0, Settings(run=run, ssh_timeout_s=20), "127.0.0.1", sshd)
    assert steps.wait_for_ssh(waiting) == steps.StepResult(True) and _pins(inventory, node) == []
    trusting = replace(waiting, settings=replace(waiting.settings, trust_new_keys_by="tester"))
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(sshd_host_key)], capture_output=True, text=True, check=True)
    expected = fingerprint.stdout.split()[1]  # as OpenSSH prints it
    assert steps.wait_for_ssh(trusting) == steps.StepResult(True, f"trusted ssh-ed25519 {expected}")
    assert _pins(inventory, node) == [expected]
    assert steps.wait_for_ssh(trusting) == steps.StepResult(True)  # pinned already: nothing more to trust
    with inventory.transaction() as session:
        [entry] = oplog.recent(session, 1)
        assert entry.command == "bringup --trust-new-keys" and entry.results[0].message == f"trusted {expected}"


def _pins(db: Database, node: str) -> list[str]:
    with db.transaction() as session:
        return [k.fingerprint for k in queries.device(session, node).host_keys]
