"""Helpers for the provisioning tests: inventories, profiles, targets, runs through the provision service."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Profile
from rackctl.lab.provision.inventory import make_inventory
from rackctl.lab.provision.targets import Target, override_inventory
from rackctl.services.provision import HostOutcome, RunSpec, provision
from rackctl.types import NodeState

__all__ = ["make_inventory"]

NODES = ("gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27")


def set_profile(db: Database, node: str, **changes: Any) -> None:
    """Give `node` a copy of its profile with `changes` (extra is merged one level deep)."""
    with db.transaction() as session:
        device = queries.device(session, node)
        base = device.profile
        assert base is not None
        fields = {
            c: getattr(base, c)
            for c in (
                "nvidia_driver",
                "fabric_manager",
                "cuda",
                "dcgm",
                "ofed",
                "container_toolkit",
                "serving_runtime",
                "serving_model",
                "serving_port",
                "tensor_parallel",
                "bond_mode",
                "mtu",
                "sriov_vfs",
            )
        }
        extra = {k: dict(v) if isinstance(v, dict) else v for k, v in (base.extra or {}).items()}
        for key, value in changes.pop("extra", {}).items():
            extra[key] = {**extra.get(key, {}), **value} if isinstance(value, dict) else value
        profile = Profile(name=f"{node}-{time.monotonic_ns()}", extra=extra, **{**fields, **changes})
        session.add(profile)
        device.profile = profile


def copy_inventory(db: Database, folder: Path) -> Database:
    """A copy of a SQLite inventory in `folder`, so a test's profile changes stay its own."""
    source = Path(db.url.removeprefix("sqlite:///"))
    (folder / "inventory.db").write_bytes(source.read_bytes())
    return Database(f"sqlite:///{folder / 'inventory.db'}")


def set_state(db: Database, node: str, state: NodeState) -> None:
    with db.transaction() as session:
        change_state(session, queries.device(session, node), state, "tester", "test setup", force=True)


def node_state(db: Database, node: str) -> tuple[NodeState, str]:
    with db.transaction() as session:
        device = queries.device(session, node)
        return device.state, device.history[-1].reason


@dataclass
class Lab:
    """Targets made in one folder, all stopped at the end."""

    root: Path
    image: Path
    repo: Path
    targets: list[Target] = field(default_factory=list)

    def target(
        self,
        name: str,
        *,
        boot: bool = False,
        os_name: str = "ubuntu-22.04",
        layers: tuple[Path, ...] = (),
        state: dict[str, str] | None = None,
        boot_timeout: float = 180,
    ) -> Target:
        target = Target(
            name, self.root / name, [*layers, self.image], self.repo, os_name, boot, state or {}, boot_timeout
        )
        self.targets.append(target)
        return target.start()

    def override(self, extra: dict[str, Any] | None = None, hosts: dict[str, dict[str, Any]] | None = None) -> Path:
        document = override_inventory(self.targets, extra)
        for host, values in (hosts or {}).items():
            document["all"]["hosts"][host].update(values)
        path = self.root / f"override-{len(list(self.root.glob('override-*')))}.yml"
        path.write_text(yaml.safe_dump(document))
        return path

    def stop(self) -> None:
        for target in self.targets:
            target.stop()


def spec(db: Database, hosts: tuple[str, ...], override: Path, state_dir: Path, **kwargs: Any) -> RunSpec:
    return RunSpec(hosts=hosts, db_url=db.url, state_dir=state_dir, overrides=(override,), **kwargs)


def run(db: Database, hosts: tuple[str, ...], override: Path, state_dir: Path, **kwargs: Any) -> list[HostOutcome]:
    """Provision through the service, as `rackctl provision` does (oplog and lifecycle included)."""
    return provision(db, spec(db, hosts, override, state_dir, **kwargs), "tester")


def dpkg_version(target: Target, package: str) -> str:
    return target.run("dpkg-query", "-W", "-f=${Version}", package).stdout


@dataclass
class Fleet:
    """Two chroot nodes (Ubuntu 22.04 and 24.04) converged twice, and a snapshot of a converged node."""

    db: Database
    lab: Lab
    override: Path
    state_dir: Path
    first: list[HostOutcome]
    second: list[HostOutcome]
    seconds: tuple[float, float]
    converged_layer: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
