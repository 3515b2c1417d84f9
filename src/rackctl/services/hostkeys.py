"""SSH host keys in the inventory: first contact made explicit and logged, and what other layers need of them.

    found = ssh_targets(session, names)          # the devices reached over SSH, where, and what is pinned
    seen = scan(found, options)                  # the key each presents (no login): one Result per device
    verdicts = [judge(t, r) for ...]             # new, same, changed (both fingerprints) or unreachable
    pin(session, actor, command, verdicts, ...)  # pins new keys (changed ones only when replacing): logged
    trust_new(db, actor, command, names, opts)   # `--trust-new-keys`: all of that for devices with no pin
    write_known_hosts(session, names, path)      # an OpenSSH known_hosts file (0600) of the pins

A device is reached over SSH at its management address when that endpoint speaks SSH (switches), else at
its host address (port 22), as audits, `cabling check` and Ansible reach it. Keys belong to the device,
not to the address: a device moved to another address keeps its pin, and an address taken over by
another machine does not inherit one. Drivers enforce the pins (drivers/ssh_trust.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.drivers.sshkeys import SSH_PORT, fingerprint, known_hosts_name
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.export import host_address
from rackctl.inventory.models import Device, HostKey
from rackctl.secrets import write_private
from rackctl.services import oplog
from rackctl.types import MgmtProtocol

# What may stand in a known_hosts line: anything else is left out rather than written.
_HOST = re.compile(r"[A-Za-z0-9._:-]+|\[[A-Za-z0-9._:-]+\]:[0-9]+")
_KEY_TYPE = re.compile(r"[a-z0-9@.-]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class Verdict(StrEnum):
    NEW = "new"  # nothing pinned yet
    SAME = "same"  # the pinned key
    CHANGED = "changed"  # another key than the pinned one: refused unless replacing
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class SshTarget:
    """A device rackctl reaches over SSH, where, and the keys the inventory pins for it."""

    device: str
    address: str
    port: int = SSH_PORT
    pinned: tuple[tuple[str, str], ...] = ()

    @property
    def where(self) -> str:
        return known_hosts_name(self.address, self.port)


@dataclass(frozen=True)
class Judgement:
    """What a device presented, compared with its pin."""

    target: SshTarget
    verdict: Verdict
    key_type: str = ""
    key: str = field(default="", repr=False)
    error: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key) if self.key else ""

    @property
    def pinned_fingerprints(self) -> list[str]:
        return [f"{kind} {fingerprint(blob)}" for kind, blob in self.target.pinned]


def ssh_address(device: Device) -> tuple[str, int] | None:
    """Where rackctl reaches the device over SSH: its SSH management endpoint, else its host address."""
    mgmt = device.mgmt
    if mgmt is not None and mgmt.protocol == MgmtProtocol.SSH and mgmt.address:
        return mgmt.address, mgmt.port or SSH_PORT
    address = host_address(device)
    return (address, SSH_PORT) if address else None


def ssh_targets(session: Session, names: Sequence[str]) -> tuple[list[SshTarget], list[str]]:
    """The named devices reached over SSH, and the names of those without an SSH address."""
    found, missing = [], []
    for device in queries.devices(session, names):
        place = ssh_address(device)
        if place is None:
            missing.append(device.name)
            continue
        pinned = tuple((k.key_type, k.key) for k in device.host_keys)
        found.append(SshTarget(device.name, place[0], place[1], pinned))
    return found, missing


def scan(targets: Sequence[SshTarget], options: fanout.Options) -> list[fanout.Result[tuple[str, str]]]:
    """The host key each target presents, read without logging in; one Result per target."""
    from rackctl.drivers.ssh_trust import scan as scan_one  # paramiko only when something is scanned

    def read(target: SshTarget) -> tuple[str, str]:
        return scan_one(target.address, target.port, options.timeout * 0.9, [kind for kind, _ in target.pinned])

    return fanout.run(read, targets, [t.device for t in targets], options)


def judge(target: SshTarget, result: fanout.Result[tuple[str, str]]) -> Judgement:
    if result.value is None:
        return Judgement(target, Verdict.UNREACHABLE, error=result.message)
    key_type, key = result.value
    if not target.pinned:
        verdict = Verdict.NEW
    elif (key_type, key) in target.pinned:
        verdict = Verdict.SAME
    else:
        verdict = Verdict.CHANGED
    return Judgement(target, verdict, key_type, key)


def from_known_hosts(targets: Sequence[SshTarget], path: Path) -> list[Judgement]:
    """Judgements from an OpenSSH known_hosts file (keys checked out of band) instead of the network."""
    from paramiko.hostkeys import HostKeys  # the file format as OpenSSH writes it, hashed names included

    known = HostKeys(str(path))
    judged = []
    for target in targets:
        keys = known.lookup(target.where)
        if not keys:
            error = f"{target.where} is not in {path}"
            judged.append(Judgement(target, Verdict.UNREACHABLE, error=error))
            continue
        kind = next((k for k, _ in target.pinned if k in keys), keys.keys()[0])
        judged.append(judge(target, fanout.Result(target.device, (kind, keys[kind].get_base64()))))
    return judged


def pin(
    session: Session, actor: str, command: str, judged: Sequence[Judgement], source: str, replace: bool = False
) -> list[Judgement]:
    """Pin the keys of new devices (and of changed ones when `replace`), recorded in the operation log."""
    chosen = [j for j in judged if j.verdict == Verdict.NEW or (replace and j.verdict == Verdict.CHANGED)]
    if not chosen:
        return []
    devices = {d.name: d for d in queries.devices(session, [j.target.device for j in chosen])}
    entries = []
    for judgement in chosen:
        device = devices[judgement.target.device]
        device.host_keys.clear()
        session.flush()
        device.host_keys.append(_row(judgement, source, actor))
        detail: dict[str, Any] = {
            "address": judgement.target.where,
            "key_type": judgement.key_type,
            "fingerprint": judgement.fingerprint,
        }
        if judgement.verdict == Verdict.CHANGED:
            detail["replaced"] = judgement.pinned_fingerprints
        message = f"{'replaced' if judgement.verdict == Verdict.CHANGED else 'trusted'} {judgement.fingerprint}"
        entries.append(oplog.TargetResult(judgement.target.device, True, message, detail))
    oplog.record(session, actor, command, entries, summary=f"{len(entries)} SSH host key(s) pinned")
    return chosen


def _row(judgement: Judgement, source: str, actor: str) -> HostKey:
    return HostKey(
        key_type=judgement.key_type,
        key=judgement.key,
        fingerprint=judgement.fingerprint,
        address=judgement.target.where,
        source=source,
        trusted_by=actor,
    )


def trust_new(
    db: Database,
    actor: str,
    command: str,
    names: Sequence[str],
    options: fanout.Options,
    reached_at: Mapping[str, tuple[str, int]] | None = None,
) -> list[Judgement]:
    """`--trust-new-keys`: pin the key of every named SSH device that has none yet (never a changed one).

    `reached_at`: where the command itself reaches a device (bring-up's provisioning address), read there
    instead of at its inventory address."""
    with db.transaction() as session:
        found, _ = ssh_targets(session, names)
    places = reached_at or {}
    fresh = [_at(t, places.get(t.device)) for t in found if not t.pinned]
    if not fresh:
        return []
    judged = [judge(t, r) for t, r in zip(fresh, scan(fresh, options), strict=True)]
    with db.transaction() as session:
        return pin(session, actor, f"{command} --trust-new-keys", judged, "trust-new-keys")


def _at(target: SshTarget, place: tuple[str, int] | None) -> SshTarget:
    return target if place is None else replace(target, address=place[0], port=place[1])


def pin_known(session: Session, actor: str, devices: Sequence[Device], key_type: str, key: str, source: str) -> None:
    """Pin a key known by other means (the lab made its hosts' key) for the devices; logged like any trust."""
    judged = []
    for device in devices:
        address, port = ssh_address(device) or ("", SSH_PORT)
        target = SshTarget(device.name, address, port, tuple((k.key_type, k.key) for k in device.host_keys))
        judged.append(judge(target, fanout.Result(device.name, (key_type, key))))
    pin(session, actor, f"trust ({source})", judged, source, replace=True)


def known_hosts_lines(session: Session, names: Sequence[str]) -> list[str]:
    """known_hosts lines for the named devices' pinned keys, under their name and their SSH address."""
    lines = []
    for device in queries.devices(session, names):
        place = ssh_address(device)
        hosts = [device.name] + ([known_hosts_name(*place)] if place else [])
        hosts = [h for h in dict.fromkeys(hosts) if _HOST.fullmatch(h)]
        for key in device.host_keys:
            if hosts and _KEY_TYPE.fullmatch(key.key_type) and _BASE64.fullmatch(key.key):
                lines.append(f"{','.join(hosts)} {key.key_type} {key.key}")
    return lines


def write_known_hosts(session: Session, names: Sequence[str], path: Path) -> int:
    """Write an OpenSSH known_hosts file (0600, atomically) of the devices' pinned keys; returns its lines.

    For OpenSSH (`-o UserKnownHostsFile=PATH -o StrictHostKeyChecking=yes`; provisioning writes the same lines
    into each run's folder): devices with nothing pinned get no line, so ssh refuses them until `rackctl trust`.
    """
    lines = known_hosts_lines(session, names)
    write_private(path, "".join(line + "\n" for line in lines))
    return len(lines)
