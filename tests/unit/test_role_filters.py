"""The roles' parsers (playbooks/filter_plugins) against outputs recorded on real machines (tests/data/host)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from rackctl.paths import shipped_dir

DATA = Path(__file__).parents[1] / "data" / "host"
_spec = importlib.util.spec_from_file_location(
    "rackctl_filters", shipped_dir("playbooks") / "filter_plugins" / "rackctl_filters.py"
)
assert _spec and _spec.loader
filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(filters)

H100 = (DATA / "nvidia-smi" / "h100-sxm5-8gpu-565.xml").read_text()
L4 = (DATA / "nvidia-smi" / "l4-555-trimmed.xml").read_text()
NCCL = (DATA / "nccl" / "all-reduce-2x-dgx-h100.txt").read_text()
GIB = 1 << 30


def test_a_healthy_dgx_h100_pair_passes_a_350_floor_only_on_large_messages() -> None:
    # The trap, on a real run: the average over all sizes is far below what the fabric sustains.
    busbw = filters.nccl_busbw(NCCL, GIB)
    assert busbw == {"large_min": 337.69, "large_max": 472.35, "sizes": 5.0, "average": 91.2553}
    assert busbw["average"] < 350 <= busbw["large_max"]


def test_fabric_of_a_recorded_hgx_h100_is_configured() -> None:
    assert filters.fabric_pending(H100) == []


def test_fabric_pending_names_each_gpu_not_completed() -> None:
    text = H100.replace("<state>Completed</state>", "<state>In Progress</state>", 2)
    assert filters.fabric_pending(text) == ["GPU 0 fabric In Progress/Success", "GPU 1 fabric In Progress/Success"]
    assert filters.fabric_pending("Failed to initialize NVML: Driver/library version mismatch") == [
        "nvidia-smi gave no report: Failed to initialize NVML: Driver/library version mismatch"
    ]


def test_gpus_without_a_fabric_are_left_out_only_when_asked() -> None:
    # Recorded PCIe GPUs report fabric state N/A; a GPU whose fabric nothing configured (an NVLink5 node without
    # the NVLink Subnet Manager) reports another state and stays pending.
    assert filters.fabric_pending(L4) == ["GPU 0 fabric N/A/N/A"]
    assert filters.fabric_pending(L4, only_fabric_gpus=True) == []
    laptop = (DATA / "nvidia-smi" / "rtx4070-laptop-575.xml").read_text()
    assert filters.fabric_pending(laptop, only_fabric_gpus=True) == []
    text = H100.replace("<state>Completed</state>", "<state>Not Started</state>", 1)
    assert filters.fabric_pending(text, only_fabric_gpus=True) == ["GPU 0 fabric Not Started/Success"]


def test_a_recorded_healthy_l4_passes_the_idle_checks_of_its_kind() -> None:
    health = filters.gpu_health(L4, {"pcie_gen": 4, "pcie_width": 16})
    assert health == {
        "findings": [],
        "figures": {"ecc_uncorrectable": 0, "pcie_width_min": 16, "pcie_gen_min": 4, "gpus_throttled_idle": 0},
    }


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (("<dram_uncorrectable>0<", "<dram_uncorrectable>3<"), "GPU 0: 3 uncorrectable ECC errors"),
        (("<remapped_row_pending>No<", "<remapped_row_pending>Yes<"), "GPU 0: row remapping pending"),
        (("<remapped_row_failure>No<", "<remapped_row_failure>Yes<"), "GPU 0: row remapping failed (RMA)"),
        (("<current_link_width>16x<", "<current_link_width>8x<"), "GPU 0: PCIe x8, expected x16"),
        (("<max_link_gen>4<", "<max_link_gen>3<"), "GPU 0: PCIe Gen3, expected Gen4"),
        (
            ("<clocks_event_reason_hw_slowdown>Not Active<", "<clocks_event_reason_hw_slowdown>Active<"),
            "GPU 0: clocks throttled at idle (hw_slowdown)",
        ),
    ],
)
def test_a_sick_gpu_is_named_with_what_is_wrong(change: tuple[str, str], finding: str) -> None:
    health = filters.gpu_health(L4.replace(*change), {"pcie_gen": 4, "pcie_width": 16})
    assert len(health["findings"]) == 1 and health["findings"][0].startswith(finding)


def test_idle_clocks_of_an_idle_gpu_are_not_throttling() -> None:
    # The recorded L4 is idle: gpu_idle is Active, which is not a fault.
    assert "<clocks_event_reason_gpu_idle>Active<" in L4
    assert filters.gpu_health(L4, {})["figures"]["gpus_throttled_idle"] == 0


def test_a_missing_gpu_is_a_finding() -> None:
    assert filters.gpu_health(H100, {"gpus": 8})["findings"] == []
    assert filters.gpu_health(L4, {"gpus": 2})["findings"] == ["1 GPUs reported, 2 expected"]


def test_inactive_nvlinks_in_nvidia_smi_nvlink_status() -> None:
    status = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)\n\t Link 0: 26.562 GB/s\n\t Link 1: <inactive>\n"
    status += "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-b)\n\t Link 0: <inactive>\n"
    assert filters.nvlink_inactive(status) == ["GPU 0 link 1", "GPU 1 link 0"]


def test_xid_reports_in_a_recorded_kernel_log() -> None:
    log = (DATA / "kernel" / "xid-dmesg.txt").read_text()
    assert filters.xid_events(log) == ["Xid 32 on 0000:01:00"] * 3


APT_SHOW = """Package: linux-modules-nvidia-570-server-open-6.8.0-60-generic
Version: 6.8.0-60.63+2
Depends: nvidia-kernel-common-570-server (>= 570.148.08)

Package: linux-modules-nvidia-570-server-open-6.8.0-60-generic
Version: 6.8.0-60.63+1
Depends: linux-image-6.8.0-60-generic, nvidia-kernel-common-570-server (>= 570.133.20)
"""


def test_the_precompiled_build_carrying_the_pinned_driver_is_chosen() -> None:
    common = "nvidia-kernel-common-570-server"
    assert filters.module_build(APT_SHOW, common, "570.133.20") == "6.8.0-60.63+1"
    assert filters.module_build(APT_SHOW, common, "570.172.08") == ""
    assert filters.module_drivers(APT_SHOW, common) == ["570.133.20", "570.148.08"]
    assert filters.module_build("N: Unable to locate package x\n", common, "570.133.20") == ""


def test_versionlocks_holding_another_version_are_released_for_a_moved_pin() -> None:
    locks = "nvidia-driver-cuda-3:570.133.20-1.el9.*\nlibnvidia-nscq-570-570.133.20-1.*\nkernel-5.14.0-427.el9.*\n"
    pins = [
        {"name": "nvidia-driver-cuda", "version": "570.148.08-*"},
        {"name": "libnvidia-nscq-570", "version": "570.133.20-*"},
        {"name": "nvidia-persistenced", "version": "570.148.08-*"},
    ]
    assert filters.moved_locks(locks, pins) == ["nvidia-driver-cuda"]


MLXCONFIG = """
Device #1:
----------

Device type:        ConnectX7
Device:             0000:3b:00.0

Configurations:                                          Default         Current         Next Boot
        LINK_TYPE_P1                                    ETH(2)          ETH(2)          IB(1)
        SRIOV_EN                                        False(0)        True(1)         True(1)
        NUM_OF_VFS                                      0               8               8
"""


def test_mlxconfig_settings_split_into_to_set_and_awaiting_a_reboot() -> None:
    wanted = {"LINK_TYPE_P1": "IB", "SRIOV_EN": True, "NUM_OF_VFS": 8}
    assert filters.mlxconfig_diff(MLXCONFIG, wanted) == {"next": {}, "current": ["LINK_TYPE_P1=1"]}
    assert filters.mlxconfig_diff(MLXCONFIG, {"NUM_OF_VFS": 16}) == {
        "next": {"NUM_OF_VFS": "16"},
        "current": ["NUM_OF_VFS=16"],
    }


def test_every_filter_the_roles_use_exists() -> None:
    used = set()
    for path in (shipped_dir("playbooks") / "roles").rglob("*.yml"):
        used |= set(re.findall(r"\|\s*(rackctl_[a-z_]+)", path.read_text()))
    assert used and used <= set(filters.FilterModule().filters())
