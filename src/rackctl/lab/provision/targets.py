"""Provisioning targets: overlay copies of the base image, entered as chroots or booted with systemd-nspawn.

Layers, top first: the target's own (OS identity, stand-in state: machine.py), optional snapshots of converged
targets, the base image. Nothing here ever touches the host's kernel state: the chroot gets /proc only, and the
harness's reboot is a script that "boots" what is on disk (machine.py).
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
from rackctl.lab.provision.machine import REPO_MOUNT, harness_vars, os_layer

__all__ = ["Target", "harness_vars", "override_inventory"]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{' '.join(command[:3])} failed: {done.stderr.strip()[-300:]}")


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


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
    # A bound, not a margin: a booted machine is used as soon as systemd says it is up; a loaded CI machine may
    # need minutes for that, and a test that boots several gives each its own bound.
    boot_timeout: float = 180
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
        os_layer(self.workdir / "layer", self.name, self.os_name, self.state, self.lowers)
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
        self.leader = self._wait_leader(self.boot_timeout)
        self._wait_running(self.boot_timeout)

    def _wait_leader(self, seconds: float) -> int:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            # nspawn's short-lived outer child is listed first for a moment; the machine is the child that became
            # systemd (its PID 1). Taking the first child once made nsenter aim at a vanished process until the bound.
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            found = children.read_text().split() if children.exists() else []
            leaders = [int(pid) for pid in found if _comm(int(pid)) == "systemd"]
            if leaders:
                return leaders[0]
            if self.process.poll() is not None:
                raise ConfigError(f"{self.name}: systemd-nspawn exited: {self.console()[-400:]}")
            time.sleep(0.05)
        raise Timeout(f"{self.name}: systemd-nspawn started no machine within {seconds:g}s")

    def _wait_running(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.leader is None or _comm(self.leader) != "systemd":
                raise ConfigError(f"{self.name}: the machine's systemd is gone: {self.console()[-400:]}")
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

    def install(self, *packages: str) -> Target:
        """apt-get install from the repositories the image already has (Ubuntu's archive stand-in): image contents."""
        for command in (("apt-get", "update", "-qq"), ("apt-get", "install", "-y", "-qq", *packages)):
            done = self.run(*command)
            if done.returncode != 0:
                raise ConfigError(f"{self.name}: {' '.join(command[:2])} failed: {done.stderr.strip()[-300:]}")
        return self

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


def override_inventory(targets: list[Target], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Ansible YAML inventory that only adds connection and harness variables to inventory hosts."""
    hosts = {t.name: t.connection_vars() for t in targets}
    return {"all": {"vars": {**harness_vars(), **(extra or {})}, "hosts": hosts}}
