"""The lab's state file: every process, address and namespace it started, so `down` stops exactly those.

The file is rewritten atomically under an exclusive lock, because simulators change it too (a BMC that
loses its outlets is stopped, and started again when power returns).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rackctl.lab.processes import LabError

STATE_FILE = "lab.json"


@dataclass
class SimulatedBmc:
    """One simulated BMC: which simulator, where it listens, which process serves it."""

    device: str
    kind: str  # ipmi, redfish
    address: str
    port: int
    pid: int = 0
    system_id: str = ""
    folder: str = ""


@dataclass
class LabState:
    name: str
    root: str
    prefix: str  # namespaces and links carry it
    db_url: str = ""
    racks: list[str] = field(default_factory=list)
    bmcs: dict[str, SimulatedBmc] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)  # other processes: "redfish:0", "pdu:pdu-r12-a1" ...
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # netns hosts
    pdus: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    restore: dict[str, dict[str, Any]] = field(default_factory=dict)  # inventory values before `up`
    skipped: list[str] = field(default_factory=list)
    ssh_key: str = ""  # the lab hosts accept this key (root)
    known_hosts: str = ""
    secret_folder: str = ""  # the lab's owner-only folder inside the secret folders (secret_dirs)
    host_public_key: str = ""  # "TYPE BASE64" of the key every lab host presents (pinned in the inventory)

    @property
    def folder(self) -> Path:
        return Path(self.root)

    def all_pids(self) -> list[int]:
        return (
            [b.pid for b in self.bmcs.values() if b.pid]
            + [p for p in self.pids.values() if p]
            + [int(h["pid"]) for h in self.hosts.values() if h.get("pid")]
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        data["bmcs"] = {k: SimulatedBmc(**v) for k, v in data.get("bmcs", {}).items()}
        return cls(**data)


def lab_folder(state_dir: Path, name: str) -> Path:
    return state_dir / "lab" / name


def new_prefix() -> str:
    """A short, unique prefix for namespace and link names (those are limited to 15 characters)."""
    return "rk" + secrets.token_hex(2)


def load(folder: Path) -> LabState | None:
    path = folder / STATE_FILE
    if not path.exists():
        return None
    try:
        return LabState.from_json(path.read_text())
    except (ValueError, TypeError, KeyError) as exc:
        raise LabError(f"{path}: unreadable lab state ({exc})", hint="rackctl lab down --force cleans up") from None


def save(state: LabState) -> None:
    folder = state.folder
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(state.to_json())
    os.replace(tmp, folder / STATE_FILE)


@contextmanager
def locked(folder: Path) -> Iterator[LabState | None]:
    """Hold the lab's lock while reading and then changing its state (save() inside)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield load(folder)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
