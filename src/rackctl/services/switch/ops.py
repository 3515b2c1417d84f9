"""`switch render|diff|push|backup`: intents from the inventory (short transaction), then the switches.

Every intent is computed and checked before any switch is contacted, so bad intent is refused before
anything is pushed. A push backs up the running configuration, diffs, applies through the platform's safe
path, re-reads and verifies, then confirms - or rolls back when applying or verifying fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.drivers.base import SwitchConfig
from rackctl.errors import CommandError, ConfigError, DriverError, ValidationError
from rackctl.inventory import queries
from rackctl.inventory.models import Device
from rackctl.paths import child
from rackctl.secrets import private_folder, write_private
from rackctl.services.endpoints import pinned_keys, ssh_endpoint
from rackctl.services.switch.diff import config_diff
from rackctl.services.switch.intent import switch_intent
from rackctl.services.switch.plan import Plan, is_switch, load_plan, mlag_peer
from rackctl.services.switch.render import render
from rackctl.types import Endpoint, MgmtProtocol

if TYPE_CHECKING:
    from rackctl.drivers.switch_netmiko import NetmikoSwitch


@dataclass(frozen=True)
class SwitchJob:
    """One switch's intended configuration and how to reach it (the secret stays a reference)."""

    name: str
    platform: str
    intended: str
    address: str = ""
    port: int | None = None
    username: str = ""
    credential_ref: str = field(default="", repr=False)
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    mlag_peer: str = ""  # the other switch of its MLAG pair, if any

    def endpoint(self) -> Endpoint:
        """The driver's endpoint; the credential is read when the session opens (at use, never stored)."""
        return ssh_endpoint(self.name, self.address, self.port, self.username, self.credential_ref, self.options)


@dataclass(frozen=True)
class PushOutcome:
    changed: bool
    diff: str
    backup: str = ""
    seconds: float = 0.0

    @property
    def message(self) -> str:
        return "applied" if self.changed else "no change"

    @property
    def detail(self) -> dict[str, Any]:
        """What the operation log keeps: whether it changed and where the previous configuration is."""
        return {"changed": self.changed, "backup": self.backup}


def _switches(session: Session, names: Sequence[str]) -> list[Device]:
    devices = queries.devices(session, names)
    others = [d.name for d in devices if not is_switch(d)]
    if others:
        raise ValidationError(f"not switches: {', '.join(others)}", hint="select switches, e.g. @role:leaf")
    return devices


def access(device: Device, need_endpoint: bool = True) -> SwitchJob:
    """How to reach a switch, without its intended configuration; refuses a missing SSH endpoint."""
    mgmt = device.mgmt
    if need_endpoint and (mgmt is None or mgmt.protocol != MgmtProtocol.SSH or not mgmt.address):
        raise ConfigError(
            f"{device.name}: no SSH management address in the inventory",
            hint=f"rackctl device set {device.name} --mgmt-address ADDRESS --mgmt-protocol ssh",
        )
    if mgmt is None:
        return SwitchJob(device.name, device.platform or "", "")
    return SwitchJob(
        device.name,
        device.platform or "",
        "",
        mgmt.address,
        mgmt.port,
        mgmt.username,
        mgmt.credential_ref,
        {**(mgmt.options or {}), "host_keys": pinned_keys(device)},
    )


def intended_config(device: Device, plan: Plan) -> str:
    """The switch's configuration as the inventory wants it; refuses bad intent."""
    return render(switch_intent(device, plan))


def jobs(session: Session, names: Sequence[str], need_endpoint: bool = True) -> list[SwitchJob]:
    """Intended configurations of the named switches; refuses bad intent or a missing SSH endpoint."""
    devices = _switches(session, names)
    plan = load_plan(session, devices)
    found = []
    for device in devices:
        text = intended_config(device, plan)
        peer = mlag_peer(device, plan)
        found.append(replace(access(device, need_endpoint), intended=text, mlag_peer=peer.name if peer else ""))
    return found


Connector = Callable[[SwitchJob], AbstractContextManager[SwitchConfig]]


def netmiko_connector(job: SwitchJob) -> AbstractContextManager[NetmikoSwitch]:
    """An SSH session to the switch (the credential is resolved here, at use)."""
    from rackctl.drivers.switch_netmiko import NetmikoSwitch

    return NetmikoSwitch(job.endpoint(), job.platform)


def save_backup(folder: Path, name: str, text: str) -> Path:
    """Keep a running configuration under the state folder: switch-backups/NAME/YYYYmmdd-HHMMSS.cfg.

    Configurations hold password hashes and SNMP/TACACS keys: owner-only files (0600) in owner-only folders.
    """
    root = folder / "switch-backups"
    target = child(root, name)  # refused before any folder is made
    private_folder(root)
    private_folder(target)
    path = target / f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 1000:03d}.cfg"
    write_private(path, text)
    return path


def backup_one(job: SwitchJob, folder: Path, connect: Connector = netmiko_connector) -> Path:
    with connect(job) as switch:
        return save_backup(folder, job.name, switch.running_config())


def diff_one(job: SwitchJob, connect: Connector = netmiko_connector) -> str:
    with connect(job) as switch:
        return config_diff(job.platform, switch.running_config(), job.intended, job.name)


def _roll_back(switch: SwitchConfig, job: SwitchJob, reason: str, backup: Path) -> CommandError:
    try:
        switch.rollback()
    except DriverError as exc:
        return CommandError(f"{reason}; ROLLBACK FAILED ({exc}); the previous configuration is in {backup}")
    return CommandError(f"{reason}; rolled back to the previous configuration (kept in {backup})")


def push_one(job: SwitchJob, folder: Path, connect: Connector = netmiko_connector) -> PushOutcome:
    """Back up, apply, verify, confirm; roll back and raise CommandError when applying or verifying fails."""
    started = time.monotonic()
    with connect(job) as switch:
        running = switch.running_config()
        backup = save_backup(folder, job.name, running)
        diff = config_diff(job.platform, running, job.intended, job.name)
        if not diff:
            return PushOutcome(False, "", str(backup), time.monotonic() - started)
        try:
            switch.apply(job.intended)
        except DriverError as exc:
            raise _roll_back(switch, job, f"apply failed: {exc}", backup) from None
        problems = switch.verify()
        left = config_diff(job.platform, switch.running_config(), job.intended, job.name)
        if left:
            problems.append(f"running configuration still differs ({len(left.splitlines())} diff lines)")
        if problems:
            raise _roll_back(switch, job, f"verification failed: {'; '.join(problems)}", backup)
        switch.confirm()
    return PushOutcome(True, diff, str(backup), time.monotonic() - started)


def run_all(
    fn: Callable[[SwitchJob], Any], items: Sequence[SwitchJob], workers: int, timeout: float, retries: int
) -> list[fanout.Result[Any]]:
    options = fanout.Options(workers=workers, timeout=timeout, retries=retries)
    return fanout.run(fn, items, [j.name for j in items], options)
