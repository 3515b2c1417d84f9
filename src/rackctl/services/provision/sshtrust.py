"""SSH host keys for Ansible: only the keys the inventory pins, looked up under the device's own name.

    pins = Pins.read(session, hosts)            # known_hosts text of the pins, and each host's fingerprints
    pin_hosts(inventory, private / "known_hosts", pins)  # every host: strict checking against that file alone
    explain(outcomes, pins)                     # ssh's refusals become one line naming `rackctl trust`

The run's private folder holds the known_hosts file (0600). ssh checks strictly (`StrictHostKeyChecking=yes`,
never `accept-new`), against that file only, under the host's inventory name (`HostKeyAlias`): keys belong to
the device, so an override that reaches it at another address or port (a jump network, a lab port) still
checks the device's pin. ssh refuses an unknown or changed key before authenticating, so nothing is sent to
an impostor and the play never runs there. Connections other than `ssh` (chroot, nsenter, local) have no host key.

ssh keeps a master connection for 60 s after a run (Ansible's ControlPersist); a later run reuses it only when
the host's pins are the same, because the pins' digest is part of the socket's name: a pin changed or removed
in between means a new connection, checked again.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from rackctl.inventory import queries
from rackctl.services.hostkeys import known_hosts_lines
from rackctl.services.provision.events import HostOutcome

# ansible's own default, kept: one master connection per host for the run's tasks.
_MULTIPLEX = "-C -o ControlMaster=auto -o ControlPersist=60s"
# What OpenSSH prints when it refuses a host key (unknown with strict checking, or changed).
_REFUSED = "Host key verification failed"
_PRESENTED = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


@dataclass(frozen=True)
class Pins:
    """The hosts' pinned keys: as a known_hosts file, and as `type SHA256:...` per host for messages."""

    known_hosts: str = ""
    fingerprints: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, hosts: Sequence[str]) -> Pins:
        lines = known_hosts_lines(session, hosts)
        devices = queries.devices(session, hosts)
        prints = {d.name: [f"{k.key_type} {k.fingerprint}" for k in d.host_keys] for d in devices}
        return cls("".join(line + "\n" for line in lines), prints)


def ssh_args(known_hosts: Path, alias: str = "") -> str:
    """ssh options for every SSH tool Ansible runs (ssh, sftp, scp): strict checking against `known_hosts` only."""
    path = shlex.quote(str(known_hosts))
    args = f"{_MULTIPLEX} -o StrictHostKeyChecking=yes -o UserKnownHostsFile={path} -o GlobalKnownHostsFile=/dev/null"
    return args + (f" -o HostKeyAlias={shlex.quote(alias)}" if alias else "")


def pin_hosts(inventory: dict[str, Any], known_hosts: Path, pins: Pins) -> None:
    """Give each host of the run's inventory its ssh options, keyed on its own name, and a master connection
    of its own for its current pins."""
    for host, values in inventory["all"]["hosts"].items():
        values["ansible_ssh_args"] = ssh_args(known_hosts, host)
        digest = hashlib.sha256("\n".join([host, *pins.fingerprints.get(host, [])]).encode()).hexdigest()[:12]
        # Ansible fills in its control folder; ssh's %C hashes address, port and user.
        values["ansible_control_path"] = f"%(directory)s/rk{digest}-%%C"


def explain(outcomes: dict[str, HostOutcome], pins: Pins) -> None:
    """Turn ssh's host-key refusals into one line each with the command that resolves it; nothing ran there."""
    for host, outcome in outcomes.items():
        if outcome.unreachable and _REFUSED in outcome.message:
            outcome.reached = False
            outcome.message = refusal(host, pins.fingerprints.get(host, []), outcome.message)


def refusal(host: str, pinned: list[str], ssh_said: str) -> str:
    if not pinned:
        return (
            f"{host}: no SSH host key is pinned in the inventory; nothing was sent to it "
            f"(to trust it: rackctl trust {host}, or provision --trust-new-keys)"
        )
    presented = _PRESENTED.search(ssh_said)
    return (
        f"{host}: SSH HOST KEY CHANGED: the inventory pins {', '.join(pinned)}, the host presented "
        f"{presented.group(0) if presented else 'another key'}. Someone may be impersonating it; nothing was sent "
        f"to it (if it was reinstalled: rackctl trust {host} --replace)"
    )
