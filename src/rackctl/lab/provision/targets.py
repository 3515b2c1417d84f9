"""Provisioning targets: overlay copies of the base image, entered as chroots or booted with systemd-nspawn.

Layers, top first: the target's own (OS identity, stand-in state), optional snapshots of converged
targets, the stand-in repository, the base image. Nothing here ever touches the host's kernel state:
the chroot gets /proc only, and the harness's reboot is a script that "boots" the module on disk.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rackctl.errors import ConfigError, Timeout
from rackctl.lab.provision.standins import KEY_FILE

REPO_MOUNT = "/srv/standin-repo"
STATE_DIR = "var/lib/nvidia-standin"

OS_RELEASES = {
    "ubuntu-22.04": ("22.04", "jammy", "22.04.5 LTS (Jammy Jellyfish)"),
    "ubuntu-24.04": ("24.04", "noble", "24.04.2 LTS (Noble Numbat)"),
}

# The harness's reboot: load the module that is on disk and give the machine a new boot id.
REBOOT_SCRIPT = f"""#!/bin/sh
state=/{STATE_DIR}
mkdir -p "$state"
if [ -s /usr/lib/nvidia-standin/module-version ]; then
  cp /usr/lib/nvidia-standin/module-version "$state/loaded-version"
else
  rm -f "$state/loaded-version"
fi
cat /proc/sys/kernel/random/uuid > "$state/boot-id"
"""


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{' '.join(command[:3])} failed: {done.stderr.strip()[-300:]}")


def _write(root: Path, path: str, text: str, mode: int = 0o644) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


def os_layer(root: Path, name: str, os_name: str, state: dict[str, str]) -> None:
    """Fill a layer that makes the image look like `os_name` with hostname `name` and stand-in `state`."""
    number, codename, pretty = OS_RELEASES[os_name]
    _write(
        root,
        "/etc/os-release",
        (
            f'PRETTY_NAME="Ubuntu {pretty.split(" (")[0]}"\nNAME="Ubuntu"\nVERSION_ID="{number}"\n'
            f'VERSION="{pretty}"\nVERSION_CODENAME={codename}\nID=ubuntu\nID_LIKE=debian\n'
            f"UBUNTU_CODENAME={codename}\n"
        ),
    )
    _write(
        root,
        "/etc/lsb-release",
        (
            f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={number}\nDISTRIB_CODENAME={codename}\n"
            f'DISTRIB_DESCRIPTION="Ubuntu {pretty.split(" (")[0]}"\n'
        ),
    )
    _write(root, "/etc/hostname", name + "\n")
    # Targets reach no Debian mirror: only the stand-in repository the roles configure.
    _write(root, "/etc/apt/sources.list", "")
    _write(root, "/usr/local/sbin/standin-reboot", REBOOT_SCRIPT, 0o755)
    # A machine on a private network never comes "online": do not let units ordered after it wait 2 minutes.
    wait_online = root / "etc/systemd/system/systemd-networkd-wait-online.service"
    wait_online.parent.mkdir(parents=True, exist_ok=True)
    if not wait_online.is_symlink():
        wait_online.symlink_to("/dev/null")
    _write(root, f"/{STATE_DIR}/boot-id", "first-boot\n")
    for key, value in state.items():
        _write(root, f"/{STATE_DIR}/{key}", value + "\n")


@dataclass
class Target:
    """One overlay copy of the image: a chroot, or a booted nspawn machine when `boot` is set."""

    name: str
    workdir: Path
    lowers: list[Path]
    repo: Path
    os_name: str = "ubuntu-22.04"
    boot: bool = False
    state: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    leader: int | None = None
    mounts: list[Path] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.workdir / "merged"

    @property
    def upper(self) -> Path:
        return self.workdir / "upper"

    def start(self) -> Target:
        for sub in ("upper", "work", "merged", "layer"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        os_layer(self.workdir / "layer", self.name, self.os_name, self.state)
        lowers = ":".join(str(p) for p in [self.workdir / "layer", *self.lowers])
        options = f"lowerdir={lowers},upperdir={self.upper},workdir={self.workdir / 'work'}"
        _run(["mount", "-t", "overlay", "overlay", "-o", options, str(self.root)])
        self.mounts.append(self.root)
        if self.boot:
            self._boot()
        else:
            self._bind(Path("/proc"), "proc", ["-t", "proc", "proc"])
            self._bind(self.repo, REPO_MOUNT, ["--bind", "-o", "ro", str(self.repo)])
        return self

    def _bind(self, _source: Path, where: str, how: list[str]) -> None:
        point = self.root / where.lstrip("/")
        point.mkdir(parents=True, exist_ok=True)
        _run(["mount", *how, str(point)])
        self.mounts.append(point)

    def _boot(self) -> None:
        command = [
            "systemd-nspawn",
            "--boot",
            "--quiet",
            "--private-network",
            "--register=no",
            "--keep-unit",
            f"--directory={self.root}",
            f"--machine={self.name}",
            f"--bind-ro={self.repo}:{REPO_MOUNT}",
        ]
        log = (self.workdir / "console.log").open("wb")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.leader = self._wait_leader()
        self._wait_running()

    def _wait_leader(self, seconds: float = 20) -> int:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            found = children.read_text().split() if children.exists() else []
            if found:
                return int(found[0])
            if self.process.poll() is not None:
                raise ConfigError(f"{self.name}: systemd-nspawn exited: {self.console()[-400:]}")
            time.sleep(0.05)
        raise Timeout(f"{self.name}: systemd-nspawn started no machine within {seconds:g}s")

    def _wait_running(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done = subprocess.run(self.enter("systemctl", "is-system-running"), capture_output=True, text=True)
            if done.stdout.strip() in ("running", "degraded"):
                return
            time.sleep(0.1)
        raise Timeout(f"{self.name}: not booted within {seconds:g}s: {self.console()[-400:]}")

    def enter(self, *command: str) -> list[str]:
        """The host command that runs `command` inside this target."""
        if self.boot:
            return ["nsenter", f"--target={self.leader}", "--all", "--", *command]
        return ["chroot", str(self.root), *command]

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.enter(*command), capture_output=True, text=True, check=False)

    def console(self) -> str:
        log = self.workdir / "console.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def connection_vars(self) -> dict[str, Any]:
        """Ansible connection variables for this target (an inventory override, never the inventory)."""
        base: dict[str, Any] = {"ansible_python_interpreter": "/usr/bin/python3"}
        if self.boot:
            return {**base, "ansible_connection": "community.docker.nsenter", "ansible_nsenter_pid": self.leader}
        return {**base, "ansible_connection": "community.general.chroot", "ansible_host": str(self.root)}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # nspawn turns SIGTERM into an orderly shutdown of the machine's systemd.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        for point in reversed(self.mounts):
            subprocess.run(["umount", "--lazy", str(point)], capture_output=True, check=False)
        self.mounts.clear()

    def snapshot(self, into: Path) -> Path:
        """Copy this (stopped) target's changes into a layer other targets can start from."""
        if self.mounts:
            raise ConfigError(f"{self.name}: stop the target before taking a snapshot")
        shutil.rmtree(into, ignore_errors=True)
        _run(["cp", "-a", str(self.upper), str(into)])
        return into


def harness_vars() -> dict[str, Any]:
    """Variables every harness target needs: the stand-in repository and the harness's reboot."""
    return {
        "base_apt_repositories": [
            {
                "name": "standin",
                "uri": f"file:{REPO_MOUNT}",
                "suite": "./",
                "components": [],
                "signed_by": f"{REPO_MOUNT}/{KEY_FILE}",
            },
        ],
        "gpu_driver_reboot_command": "/usr/local/sbin/standin-reboot",
        "gpu_driver_boot_time_command": f"cat /{STATE_DIR}/boot-id",
        "gpu_driver_loaded_version_file": f"/{STATE_DIR}/loaded-version",
        "serving_apt_packages": ["vllm-standin"],
        "burnin_packages": ["nccl-tests"],
        "serving_command": "/opt/vllm/bin/vllm",
    }


def override_inventory(targets: list[Target], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Ansible YAML inventory that only adds connection and harness variables to inventory hosts."""
    hosts = {t.name: t.connection_vars() for t in targets}
    return {"all": {"vars": {**harness_vars(), **(extra or {})}, "hosts": hosts}}
