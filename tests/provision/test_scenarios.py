"""Pin moves and refusals, each on its own chroot node started from a converged snapshot (one run for all of them),
and refusals that stop before anything is installed (one run on fresh nodes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.services.provision import HostOutcome
from rackctl.types import NodeState
from tests.provision.harness import Fleet, Lab, copy_inventory, dpkg_version, node_state, run, set_profile

NEXT = "570.148.08"
UPGRADE, NO_REBOOT, BAD_BOND, DKMS = "gpu-r12-u19", "gpu-r12-u27", "gpu-r12-u11", "gpu-r12-u03"


@dataclass
class Scenarios:
    db: Database
    lab: Lab
    outcomes: dict[str, HostOutcome]
    netplan_before: bytes

    def target(self, name: str):  # type: ignore[no-untyped-def]
        return next(t for t in self.lab.targets if t.name == name)


@pytest.fixture(scope="module")
def scenarios(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    """u19: pinned upgrade with SR-IOV VFs and NIC firmware settings; u27: the same upgrade with reboots forbidden;
    u11: an invalid bond; u03: DKMS modules instead of precompiled ones."""
    root = tmp_path_factory.mktemp("scenarios")
    db = copy_inventory(fleet.db, root)
    lab = Lab(root / "lab", fleet.lab.image, fleet.lab.repo)
    try:
        for node in (UPGRADE, NO_REBOOT, BAD_BOND, DKMS):
            lab.target(node, layers=(fleet.converged_layer,))
        mlx = {
            "mlxconfig": {
                "devices": ["0000:3b:00.0"],
                "settings": {"LINK_TYPE_P1": "ETH", "SRIOV_EN": True, "NUM_OF_VFS": 8},
            }
        }
        set_profile(db, UPGRADE, nvidia_driver=NEXT, fabric_manager=NEXT, sriov_vfs=8, extra=mlx)
        set_profile(db, NO_REBOOT, nvidia_driver=NEXT, fabric_manager=NEXT)
        set_profile(db, BAD_BOND, bond_mode="802.3ad-fast")
        set_profile(db, DKMS, extra={"driver_modules": "dkms"})
        override = lab.override(hosts={NO_REBOOT: {"gpu_driver_allow_reboot": False}})
        netplan = (lab.targets[2].root / "etc/netplan/60-rackctl.yaml").read_bytes()
        hosts = (UPGRADE, NO_REBOOT, BAD_BOND, DKMS)
        tags = ("gpu_driver", "fabricmanager", "host_network", "nic_firmware")
        outcomes = {o.host: o for o in run(db, hosts, override, root / "ansible", tags=tags)}
        yield Scenarios(db, lab, outcomes, netplan)
    finally:
        lab.stop()
        db.dispose()


def test_pinned_upgrade_moves_driver_modules_and_fabric_manager_together(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes[UPGRADE]
    assert (outcome.ok, outcome.message) == (True, "")
    assert outcome.changed_tasks.count("reboot : Reboot once for everything that needs it") == 1
    target = scenarios.target(UPGRADE)
    for package in ("nvidia-headless-no-dkms-570-server-open", "nvidia-utils-570-server"):
        assert dpkg_version(target, package) == f"{NEXT}-0ubuntu0.22.04.1"
    # The precompiled build that carries the new point release for this kernel, not just the newest.
    assert dpkg_version(target, "linux-modules-nvidia-570-server-open-6.8.0-60-generic") == "6.8.0-60.63+2"
    assert dpkg_version(target, "nvidia-fabricmanager-570") == f"{NEXT}-1"
    assert dpkg_version(target, "libnvidia-nscq-570") == f"{NEXT}-1"
    held = set(target.run("apt-mark", "showhold").stdout.split())
    assert {"nvidia-utils-570-server", "nvidia-fabricmanager-570", "libnvidia-nscq-570"} <= held
    assert (target.root / "var/lib/nvidia-standin/loaded-version").read_text().strip() == NEXT
    assert node_state(scenarios.db, UPGRADE)[0] == NodeState.PROVISIONED


def test_sriov_vfs_are_keyed_on_the_pci_address_and_created_at_once(scenarios: Scenarios) -> None:
    target = scenarios.target(UPGRADE)
    rules = (target.root / "etc/udev/rules.d/70-rackctl-sriov.rules").read_text()
    for address in ("0000:3b:00.0", "0000:3b:00.1"):
        assert f'ACTION=="add", SUBSYSTEM=="net", KERNELS=="{address}", ATTR{{device/sriov_numvfs}}="8"' in rules
    assert 'KERNEL=="ens1f0np0"' not in rules
    sysfs = target.root / "var/lib/nvidia-standin/devices"
    assert (sysfs / "0000:3b:00.0/sriov_numvfs").read_text().strip() == "8"


def test_nic_firmware_settings_are_set_and_rebooted_into_once(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes[UPGRADE]
    assert "nic_firmware : Set the firmware settings for the next boot on 0000:3b:00.0" in outcome.changed_tasks
    query = scenarios.target(UPGRADE).run("mlxconfig", "-d", "0000:3b:00.0", "q", "SRIOV_EN", "NUM_OF_VFS").stdout
    assert [line.split()[-2:] for line in query.splitlines() if "SRIOV_EN" in line or "NUM_OF_VFS" in line] == [
        ["True(1)", "True(1)"],
        ["8", "8"],
    ]


def test_upgrade_without_reboot_fails_saying_why_the_node_needs_one(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes[NO_REBOOT]
    assert not outcome.ok
    assert outcome.failed_task == "reboot : Refuse a reboot the target does not allow"
    assert outcome.message.startswith(f"{NO_REBOOT} needs a reboot (NVIDIA module 570.133.20 loaded, pinned {NEXT})")
    assert "gpu_driver_allow_reboot: false" in outcome.message
    state, reason = node_state(scenarios.db, NO_REBOOT)
    assert state == NodeState.FAILED and reason.startswith("provision: reboot : Refuse a reboot")


def test_invalid_bond_is_rejected_before_the_live_file_changes(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes[BAD_BOND]
    assert not outcome.ok
    assert outcome.failed_task == "host_network : Refuse an invalid network configuration"
    assert outcome.message.startswith("netplan rejected the rendered configuration, /etc/netplan/60-rackctl.yaml")
    assert "unknown bond mode '802.3ad-fast'" in outcome.message
    live = scenarios.target(BAD_BOND).root / "etc/netplan/60-rackctl.yaml"
    assert live.read_bytes() == scenarios.netplan_before
    assert node_state(scenarios.db, BAD_BOND)[0] == NodeState.FAILED


def test_dkms_modules_are_built_against_the_running_kernels_headers(scenarios: Scenarios) -> None:
    outcome = scenarios.outcomes[DKMS]
    assert (outcome.ok, outcome.message) == (True, "")
    target = scenarios.target(DKMS)
    assert dpkg_version(target, "nvidia-dkms-570-server-open") == "570.133.20-0ubuntu0.22.04.1"
    assert dpkg_version(target, "linux-headers-6.8.0-60-generic") == "6.8.0-60.63"
    assert (target.root / "lib/modules/6.8.0-60-generic/updates/dkms/nvidia.ko").is_file()


@pytest.fixture(scope="module")
def refusals(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    """Profiles NVIDIA's facts refuse, a point release no precompiled build carries, check mode before the container
    toolkit exists, and a profile with DCGM but no CUDA: one run, most nodes stopping before any install."""
    root = tmp_path_factory.mktemp("refusals")
    db = copy_inventory(fleet.db, root)
    lab = Lab(root / "lab", fleet.lab.image, fleet.lab.repo)
    try:
        fresh = {
            "gpu-r12-u03": {"fabric_manager": NEXT},
            "gpu-r12-u11": {"extra": {"dcgm_exporter": "4.6.0"}},
            "gpu-r12-u19": {"ofed": "25.04"},
            "gpu-r12-u27": {
                "nvidia_driver": "570.172.08",
                "fabric_manager": "570.172.08",
                "extra": {"driver_modules": "precompiled"},
            },
        }
        for node, changes in fresh.items():
            lab.target(node)
            set_profile(db, node, **changes)
        outcomes = {o.host: o for o in run(db, tuple(fresh), lab.override(), root / "ansible")}
        yield Scenarios(db, lab, outcomes, b"")
    finally:
        lab.stop()
        db.dispose()


@pytest.mark.parametrize(
    ("node", "task", "message"),
    [
        (
            "gpu-r12-u03",
            "preflight : Check Fabric Manager is pinned to the driver's exact version",
            f"Fabric Manager {NEXT} must equal the NVIDIA driver 570.133.20 exactly",
        ),
        (
            "gpu-r12-u11",
            "preflight : Check the DCGM exporter is one built for the pinned DCGM",
            "dcgm-exporter 4.6.0 is not built for DCGM 4.2.3 (NVIDIA's releases for it: 4.1.3, 4.2.0, 4.3.0)",
        ),
        (
            "gpu-r12-u19",
            "preflight : Check the DOCA release is pinned beside the OFED version it carries",
            "the profile pins OFED 25.04 but DOCA release 3.1.0 carries OFED 25.07",
        ),
        (
            "gpu-r12-u27",
            "gpu_driver : Refuse a precompiled-module pin this kernel has no build for",
            "no precompiled module for kernel 6.8.0-60-generic carries driver 570.172.08 (builds for this kernel carry:"
            " 570.133.20, 570.148.08)",
        ),
    ],
)
def test_pins_nvidia_does_not_publish_are_refused_before_any_install(
    refusals: Scenarios, node: str, task: str, message: str
) -> None:
    outcome = refusals.outcomes[node]
    assert (outcome.ok, outcome.failed_task) == (False, task)
    assert outcome.message.startswith(message)
    target = next(t for t in refusals.lab.targets if t.name == node)
    assert dpkg_version(target, "nvidia-utils-570-server") == ""
    assert node_state(refusals.db, node)[0] == NodeState.FAILED


def test_base_adds_no_doca_repository_to_a_node_without_ofed(fleet: Fleet, lab: Lab, tmp_path: Path) -> None:
    db = copy_inventory(fleet.db, tmp_path)
    try:
        target = lab.target("gpu-r12-u03")
        set_profile(db, "gpu-r12-u03", ofed=None)
        [outcome] = run(db, ("gpu-r12-u03",), lab.override(), tmp_path / "ansible", tags=("base",))
        assert outcome.ok, outcome.message
        assert sorted(p.name for p in (target.root / "etc/apt/sources.list.d").iterdir()) == ["cuda.list"]
    finally:
        db.dispose()


def test_dcgm_without_cuda_and_check_mode_before_the_toolkit_exists(fleet: Fleet, lab: Lab, tmp_path: Path) -> None:
    db = copy_inventory(fleet.db, tmp_path)
    try:
        target = lab.target("gpu-r12-u03", layers=(fleet.converged_layer,))
        assert (
            target.run(
                "dpkg", "--purge", "--force-hold", "nvidia-container-toolkit", "nvidia-container-toolkit-base"
            ).returncode
            == 0
        )
        set_profile(db, "gpu-r12-u03", cuda=None)
        [dcgm] = run(db, ("gpu-r12-u03",), lab.override(), tmp_path / "ansible", tags=("dcgm",))
        assert (dcgm.ok, dcgm.message) == (True, "")
        [check] = run(
            db, ("gpu-r12-u03",), lab.override(), tmp_path / "ansible", tags=("container_toolkit",), check=True
        )
        assert (check.ok, check.message) == (True, "")
        assert "pinned_packages : Install pinned versions" in check.changed_tasks
        assert not (target.root / "usr/bin/nvidia-ctk").exists()
    finally:
        db.dispose()
