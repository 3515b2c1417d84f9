"""Real converges through ansible-runner on chroot targets (Ubuntu 22.04 and 24.04) fed by the stand-in repo."""

from __future__ import annotations

from rackctl.services import oplog
from rackctl.types import NodeState
from tests.provision.harness import Fleet, dpkg_version, node_state


def test_fresh_converge_installs_the_pinned_stack_and_provisions(fleet: Fleet) -> None:
    print(f"converge {fleet.seconds[0]:.1f}s, idempotent rerun {fleet.seconds[1]:.1f}s (2 chroot nodes)")
    assert [(o.host, o.ok, o.message) for o in fleet.first] == [("gpu-r12-u03", True, ""), ("gpu-r12-u11", True, "")]
    assert all(o.changed > 20 for o in fleet.first)
    assert "gpu_driver : Reboot into the pinned driver" in fleet.first[0].changed_tasks
    for target in fleet.lab.targets:
        assert dpkg_version(target, "nvidia-headless-no-dkms-570-server") == "570.133.20-0ubuntu1"
        assert dpkg_version(target, "nvidia-fabricmanager-570") == "570.133.20-1"
        assert dpkg_version(target, "datacenter-gpu-manager-4-core") == "1:4.2.3-1"
        held = target.run("apt-mark", "showhold").stdout.split()
        assert {"nvidia-utils-570-server", "nvidia-fabricmanager-570", "libnvidia-nscq-570", "doca-ofed"} <= set(held)
        assert (target.root / "var/lib/nvidia-standin/loaded-version").read_text().strip() == "570.133.20"
        assert target.run("systemctl", "is-enabled", "nvidia-fabricmanager.service").stdout.strip() == "enabled"
    assert node_state(fleet.db, "gpu-r12-u03") == (NodeState.PROVISIONED, "converged to profile h100-inference")


def test_fresh_converge_renders_the_bond_vlans_and_runtime(fleet: Fleet) -> None:
    root = fleet.lab.targets[0].root
    netplan = (root / "etc/netplan/60-rackctl.yaml").read_text()
    for line in (
        "mode: 802.3ad",
        "lacp-rate: fast",
        "transmit-hash-policy: layer3+4",
        "mtu: 9000",
        "interfaces: [ens1f0np0, ens1f1np1]",
        "addresses: [10.100.0.",
        "bond0.100:",
        "link: bond0",
    ):
        assert line in netplan
    assert "--tensor-parallel-size 8" in (root / "etc/systemd/system/rackctl-serving.service").read_text()
    assert "runtimes.nvidia" in (root / "etc/containerd/conf.d/99-nvidia.toml").read_text()


def test_fresh_converge_is_recorded_per_host(fleet: Fleet) -> None:
    with fleet.db.transaction() as session:
        first = list(oplog.recent(session, 5))[-1]
        assert first.command == "provision"
        assert [(r.target, r.ok) for r in first.results] == [("gpu-r12-u03", True), ("gpu-r12-u11", True)]
        assert first.results[0].detail["changed"] == fleet.first[0].changed


def test_second_run_changes_nothing(fleet: Fleet) -> None:
    assert [(o.host, o.ok, o.changed, o.changed_tasks) for o in fleet.second] == [
        ("gpu-r12-u03", True, 0, []),
        ("gpu-r12-u11", True, 0, []),
    ]


def test_check_diff_shows_a_hand_edit_and_changes_nothing(fleet: Fleet, cli) -> None:
    sysctl = fleet.lab.targets[0].root / "etc/sysctl.d/90-rackctl-serving.conf"
    original = sysctl.read_text()
    sysctl.write_text(original.replace("vm.swappiness = 1", "vm.swappiness = 60"))
    try:
        result = cli(
            "--db",
            fleet.db.url,
            "provision",
            "gpu-r12-u03",
            "--check",
            "--diff",
            "--inventory-override",
            str(fleet.override),
            "--json",
        )
        assert result.exit_code == 0, result.stderr
        [outcome] = result.json()  # type: ignore[misc]
        assert outcome["changed_tasks"] == ["base : Set kernel parameters for serving"]
        assert "-vm.swappiness = 60\n+vm.swappiness = 1" in "".join(outcome["diff"])
        assert "vm.swappiness = 60" in sysctl.read_text()
        assert node_state(fleet.db, "gpu-r12-u03")[0] == NodeState.PROVISIONED
        log = cli("--db", fleet.db.url, "log", "--kind", "operation", "-n", "1", "--json").json()
        assert log[0]["command"] == "provision --check --diff"  # type: ignore[index]
    finally:
        sysctl.write_text(original)
