"""What a harness target pretends to be: an Ubuntu release, a kernel, an HGX board's PCI devices and NICs, and the
tools that touch the node's own kernel (reboot, boot loader, initramfs, modprobe), all writing a state folder.

Nothing here touches the host: the "kernel" of a target is /var/lib/nvidia-standin inside it. The reboot loads
what is on disk for the target's kernel (the NVIDIA and mlx5 modules, the boot loader's command line, the NIC
firmware's next-boot settings), as a real reboot would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rackctl.lab.provision.standins import KEY_FILE

STATE_DIR = "var/lib/nvidia-standin"
REPO_MOUNT = "/srv/standin-repo"
# The Ubuntu kernel the targets run (the stand-in repository builds its module packages for it).
KERNEL = "6.8.0-60-generic"

OS_RELEASES = {
    "ubuntu-22.04": ("22.04", "jammy", "22.04.5 LTS (Jammy Jellyfish)"),
    "ubuntu-24.04": ("24.04", "noble", "24.04.2 LTS (Noble Numbat)"),
}

# The harness's reboot: load what is on disk, boot the command line the boot loader was given, apply NIC firmware
# settings, forget the fabric (Fabric Manager configures it again), and give the machine a new boot id.
REBOOT_SCRIPT = f"""#!/bin/sh
state=/{STATE_DIR}
mkdir -p "$state"
load() {{
  ko=$(find /lib/modules/{KERNEL} -name "$1.ko*" 2>/dev/null | sort -r | head -n 1)
  if [ -n "$ko" ]; then modinfo -F version "$ko" > "$state/$2"; else rm -f "$state/$2"; fi
}}
load nvidia loaded-version
load mlx5_core mlx5-loaded-version
[ -s "$state/grub-cmdline" ] && cp "$state/grub-cmdline" "$state/cmdline"
rm -rf "$state/sys/module/nvidia_peermem" "$state/fabric-state"
[ -s "$state/mlxconfig.json" ] && python3 -c '
import json, sys
settings = json.load(open(sys.argv[1]))
for device in settings.values():
    device["current"] = dict(device["next"])
json.dump(settings, open(sys.argv[1], "w"))' "$state/mlxconfig.json"
cat /proc/sys/kernel/random/uuid > "$state/boot-id"
"""

# update-grub: what the boot loader will put on the next boot's command line (GRUB_CMDLINE_LINUX_DEFAULT drop-ins).
UPDATE_GRUB = f"""#!/bin/sh
pattern='s/.*GRUB_CMDLINE_LINUX_DEFAULT="\\$GRUB_CMDLINE_LINUX_DEFAULT \\(.*\\)"/\\1/p'
args=$(cat /etc/default/grub.d/*.cfg 2>/dev/null | sed -n "$pattern")
echo "BOOT_IMAGE=/boot/vmlinuz-{KERNEL} root=/dev/sda1 ro $args" | tr -s ' ' > /{STATE_DIR}/grub-cmdline
"""

UPDATE_INITRAMFS = f"""#!/bin/sh
date +%s > /{STATE_DIR}/initramfs-built
"""

# modprobe for the modules the roles load at once: present on disk for the kernel -> "loaded" in the state's sysfs.
MODPROBE = f"""#!/bin/sh
name=$(echo "$1" | tr - _)
ko=$(find /lib/modules/{KERNEL} -name "$1.ko*" -o -name "$name.ko*" 2>/dev/null | head -n 1)
[ -n "$ko" ] || {{ echo "modprobe: FATAL: Module $1 not found in directory /lib/modules/{KERNEL}" >&2; exit 1; }}
mkdir -p /{STATE_DIR}/sys/module/$name
"""

# An HGX H100 board: eight GPUs, four NVSwitches, two PCIe switches (bridges) in front of them.
_PCI = {
    **{f"0000:{bus:02x}:00.0": ("0x10de", "0x030200") for bus in (0x18, 0x2A, 0x3A, 0x5D, 0x9A, 0xAB, 0xBA, 0xDB)},
    **{f"0000:0{n}:00.0": ("0x10de", "0x068000") for n in range(5, 9)},
    "0000:16:00.0": ("0x1000", "0x060400"),
    "0000:98:00.0": ("0x1000", "0x060400"),
}
# Ethernet ports (SR-IOV capable) and InfiniBand ports with their PCI addresses and link rates.
_NICS = {"ens1f0np0": "0000:3b:00.0", "ens1f1np1": "0000:3b:00.1"}
_IB_PORTS = {f"ibp{n}": f"0000:{0x40 + n:02x}:00.0" for n in range(8)}
NDR = "400 Gb/sec (4X NDR)"


def _write(root: Path, path: str, text: str, mode: int = 0o644) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


def _os_files(root: Path, name: str, os_name: str) -> None:
    number, codename, pretty = OS_RELEASES[os_name]
    short = pretty.split(" (")[0]
    _write(
        root,
        "/etc/os-release",
        (
            f'PRETTY_NAME="Ubuntu {short}"\nNAME="Ubuntu"\nVERSION_ID="{number}"\nVERSION="{pretty}"\n'
            f"VERSION_CODENAME={codename}\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME={codename}\n"
        ),
    )
    _write(
        root,
        "/etc/lsb-release",
        (
            f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={number}\nDISTRIB_CODENAME={codename}\n"
            f'DISTRIB_DESCRIPTION="Ubuntu {short}"\n'
        ),
    )
    _write(root, "/etc/hostname", name + "\n")
    # Ubuntu's archive (its stand-in) and the site repository; the roles add NVIDIA's repositories themselves.
    signed = f"[signed-by={REPO_MOUNT}/{KEY_FILE}]"
    _write(
        root,
        "/etc/apt/sources.list",
        (f"deb {signed} file:{REPO_MOUNT}/ubuntu-{number} ./\ndeb {signed} file:{REPO_MOUNT}/site ./\n"),
    )


def _tools(root: Path) -> None:
    for name, body in (
        ("standin-reboot", REBOOT_SCRIPT),
        ("standin-update-grub", UPDATE_GRUB),
        ("standin-update-initramfs", UPDATE_INITRAMFS),
        ("standin-modprobe", MODPROBE),
    ):
        _write(root, f"/usr/local/sbin/{name}", body, 0o755)
    # A machine on a private network never comes "online": do not let units ordered after it wait 2 minutes.
    wait_online = root / "etc/systemd/system/systemd-networkd-wait-online.service"
    wait_online.parent.mkdir(parents=True, exist_ok=True)
    if not wait_online.is_symlink():
        wait_online.symlink_to("/dev/null")


def _sysfs(root: Path, nvswitches: int) -> None:
    state = f"/{STATE_DIR}"
    switches = [a for a, (_, klass) in _PCI.items() if klass == "0x068000"]
    for address, (vendor, klass) in _PCI.items():
        if address in switches[nvswitches:]:
            continue
        _write(root, f"{state}/pci/{address}/vendor", vendor + "\n")
        _write(root, f"{state}/pci/{address}/class", klass + "\n")
    for port, address in {**_NICS, **_IB_PORTS}.items():
        device = root / f"{STATE_DIR}/devices/{address}"
        link = root / f"{STATE_DIR}/sys/class/net/{port}/device"
        link.parent.mkdir(parents=True, exist_ok=True)
        device.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(device, link.parent))
    for port in _NICS:
        _write(root, f"{state}/sys/class/net/{port}/device/sriov_numvfs", "0\n")
    for n, port in enumerate(_IB_PORTS):
        _write(root, f"{state}/sys/class/net/{port}/device/infiniband/mlx5_{n}/ports/1/rate", NDR + "\n")
        _write(root, f"{state}/sys/class/net/{port}/create_child", "")


def os_layer(root: Path, name: str, os_name: str, state: dict[str, str], lowers: list[Path]) -> None:
    """Fill a layer that makes the image `os_name` on an HGX board, hostname `name`, stand-in `state` on top.

    A first boot's state (command line, NVSwitch count, kernel log) is written only where no lower layer (a
    snapshot of a converged node) has its own: the snapshot's booted state must show through.
    """
    _os_files(root, name, os_name)
    _tools(root)
    _sysfs(root, int(state.get("nvswitches", "4")))
    defaults = {
        "boot-id": "first-boot",
        "cmdline": f"BOOT_IMAGE=/boot/vmlinuz-{KERNEL} root=/dev/sda1 ro",
        "nvswitches": "4",
        "kmsg": "",
    }
    fresh = {k: v for k, v in defaults.items() if not any((lower / STATE_DIR / k).exists() for lower in lowers)}
    for key, value in {**fresh, **state}.items():
        _write(root, f"/{STATE_DIR}/{key}", value + "\n" if value else "")


def harness_vars() -> dict[str, Any]:
    """Variables every harness target needs: the stand-in repositories, its kernel, and the stand-in node tools."""
    state = f"/{STATE_DIR}"

    def repo(name: str) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "uri": f"file:{REPO_MOUNT}/{name}",
                "suite": "./",
                "components": [],
                "signed_by": f"{REPO_MOUNT}/{KEY_FILE}",
            }
        ]

    return {
        "base_apt_repositories": repo("cuda"),
        "doca_ofed_repositories": repo("doca"),
        "container_toolkit_repositories": repo("libnvidia-container"),
        "rackctl_kernel": KERNEL,
        "gpu_driver_reboot_command": "/usr/local/sbin/standin-reboot",
        "gpu_driver_boot_time_command": f"cat {state}/boot-id",
        "gpu_driver_loaded_version_file": f"{state}/loaded-version",
        "gpu_driver_pci_devices": f"{state}/pci",
        "gpu_driver_initramfs_managed": True,
        "gpu_driver_update_initramfs_command": "/usr/local/sbin/standin-update-initramfs",
        "base_boot_loader_managed": True,
        "base_update_grub_command": "/usr/local/sbin/standin-update-grub",
        "reboot_cmdline_file": f"{state}/cmdline",
        "doca_ofed_loaded_version_file": f"{state}/mlx5-loaded-version",
        "node_verify_mlx5_version_file": f"{state}/mlx5-loaded-version",
        "node_verify_modprobe_command": "/usr/local/sbin/standin-modprobe",
        "node_verify_module_dir": f"{state}/sys/module",
        "node_verify_fabric_delay": 1,
        "node_verify_fabric_retries": 10,
        "host_network_sysfs_net": f"{state}/sys/class/net",
        "nic_firmware_pci_devices": f"{state}/pci",
        "burnin_kernel_log_command": f"cat {state}/kmsg",
        "burnin_serving_delay": 1,
        "serving_apt_packages": ["vllm-standin", "tritonserver-standin"],
        "serving_health_delay": 1,
        "burnin_packages": ["nccl-tests"],
        "serving_command": "/opt/vllm/bin/vllm",
    }
