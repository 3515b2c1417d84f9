"""Pin moves and refusals, each on its own chroot node started from a converged snapshot (one run for all)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.services.provision import HostOutcome
from rackctl.types import NodeState
from tests.provision.harness import Fleet, Lab, dpkg_version, node_state, run, set_profile

NEXT = "570.148.08"


@dataclass
class Scenarios:
    db: Database
    lab: Lab
    outcomes: dict[str, HostOutcome]
    netplan_before: bytes


@pytest.fixture(scope="module")
def scenarios(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    """u19: pinned upgrade (and SR-IOV VFs); u27: the same upgrade with reboots forbidden; u11: an invalid bond."""
    root = tmp_path_factory.mktemp("scenarios")
    db = Database(f"sqlite:///{root / 'inventory.db'}")
    source = Path(fleet.db.url.removeprefix("sqlite:///"))
    (root / "inventory.db").write_bytes(source.read_bytes())
    lab = Lab(root / "lab", fleet.lab.image, fleet.lab.repo)
    try:
        for node in ("gpu-r12-u19", "gpu-r12-u27", "gpu-r12-u11"):
            lab.target(node, layers=(fleet.converged_layer,))
        set_profile(db, "gpu-r12-u19", nvidia_driver=NEXT, fabric_manager=NEXT, sriov_vfs=8)
        set_profile(db, "gpu-r12-u27", nvidia_driver=NEXT, fabric_manager=NEXT)
        set_profile(db, "gpu-r12-u11", bond_mode="802.3ad-fast")
        override = lab.override(hosts={"gpu-r12-u27": {"gpu_driver_allow_reboot": False}})
        netplan = (lab.targets[2].root / "etc/netplan/60-rackctl.yaml").read_bytes()
        hosts = ("gpu-r12-u19", "gpu-r12-u27", "gpu-r12-u11")
        outcomes = {
            o.host: o
            for o in run(db, hosts, override, root / "ansible", tags=("gpu_driver", "fabricmanager", "host_network"))
        }
        yield Scenarios(db, lab, outcomes, netplan)
    finally:
        lab.stop()
        db.dispose()


def test_pinned_upgrade_moves_driver_and_fabric_manager_together(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes["gpu-r12-u19"]
    assert (outcome.ok, outcome.message) == (True, "")
    assert "gpu_driver : Reboot into the pinned driver" in outcome.changed_tasks
    target = scenarios.lab.targets[0]
    for package in ("nvidia-headless-no-dkms-570-server", "nvidia-utils-570-server"):
        assert dpkg_version(target, package) == f"{NEXT}-0ubuntu1"
    assert dpkg_version(target, "nvidia-fabricmanager-570") == f"{NEXT}-1"
    assert dpkg_version(target, "libnvidia-nscq-570") == f"{NEXT}-1"
    held = set(target.run("apt-mark", "showhold").stdout.split())
    assert {"nvidia-utils-570-server", "nvidia-fabricmanager-570", "libnvidia-nscq-570"} <= held
    assert (target.root / "var/lib/nvidia-standin/loaded-version").read_text().strip() == NEXT
    assert node_state(scenarios.db, "gpu-r12-u19")[0] == NodeState.PROVISIONED


def test_sriov_virtual_functions_are_made_persistent(scenarios: Scenarios) -> None:
    rules = (scenarios.lab.targets[0].root / "etc/udev/rules.d/70-rackctl-sriov.rules").read_text()
    for port in ("ens1f0np0", "ens1f1np1"):
        assert f'ACTION=="add", SUBSYSTEM=="net", KERNEL=="{port}", ATTR{{device/sriov_numvfs}}="8"' in rules


def test_upgrade_without_reboot_is_caught_by_the_nvml_mismatch(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes["gpu-r12-u27"]
    assert not outcome.ok
    assert outcome.failed_task == "gpu_driver : Check NVML answers with the pinned driver on every GPU"
    assert outcome.message.startswith(f"NVML check failed (pinned {NEXT}, 8 GPUs expected)")
    assert "Failed to initialize NVML: Driver/library version mismatch" in outcome.message
    state, reason = node_state(scenarios.db, "gpu-r12-u27")
    assert state == NodeState.FAILED
    assert reason.startswith("provision: gpu_driver : Check NVML answers")


def test_invalid_bond_is_rejected_before_the_live_file_changes(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes["gpu-r12-u11"]
    assert not outcome.ok
    assert outcome.failed_task == "host_network : Refuse an invalid network configuration"
    assert outcome.message.startswith("netplan rejected the rendered configuration, /etc/netplan/60-rackctl.yaml")
    assert "unknown bond mode '802.3ad-fast'" in outcome.message
    live = scenarios.lab.targets[2].root / "etc/netplan/60-rackctl.yaml"
    assert live.read_bytes() == scenarios.netplan_before
    assert node_state(scenarios.db, "gpu-r12-u11")[0] == NodeState.FAILED


def test_fabric_manager_pinned_to_another_version_is_refused_before_any_install(
    lab: Lab, inventory: Database, tmp_path: Path
) -> None:
    target = lab.target("gpu-r12-u03")
    set_profile(inventory, "gpu-r12-u03", fabric_manager=NEXT)
    [outcome] = run(inventory, ("gpu-r12-u03",), lab.override(), tmp_path / "ansible")
    assert not outcome.ok
    assert outcome.failed_task == "fabricmanager : Check Fabric Manager is pinned to the driver's exact version"
    assert outcome.message == (
        f"Fabric Manager {NEXT} must equal the NVIDIA driver 570.133.20 exactly (NVSwitch systems refuse "
        "mismatched versions): fix the profile; nothing was installed"
    )
    assert outcome.changed == 0
    assert dpkg_version(target, "nvidia-fabricmanager-570") == ""
    assert dpkg_version(target, "nvidia-utils-570-server") == ""
    state, reason = node_state(inventory, "gpu-r12-u03")
    assert state == NodeState.FAILED and "must equal the NVIDIA driver" in reason
