"""One private folder per playbook run: the inventory of its hosts, the run's variables and the hosts' pinned SSH
keys as owner-only files (secrets resolved into them at the last moment), removed with everything sensitive when
the run ends.

Concurrent runs never share a folder: ansible-runner's artifact rotation in a shared folder deletes another run's
events. The folder keeps the event records after the run (for debugging); variables, inventory and ansible-runner's
`command` record (which would hold the environment) are removed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rackctl import secrets as secret_refs
from rackctl.errors import ConfigError, PlaybookError
from rackctl.secrets import write_private
from rackctl.services.provision.sshtrust import Pins, pin_hosts

# Secret references a profile may hold for the roles, by where the roles read the resolved value.
PROFILE_SECRETS = {("serving", "token"): "serving_token", ("serving", "api_key"): "serving_api_key"}
KEEP_RUNS = 20
KNOWN_HOSTS = "known_hosts"


def _owner_only_file(path: Path, data: Any) -> None:
    # Created 0600 before anything is written: the content is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)


def host_secrets(hostvars: dict[str, Any]) -> dict[str, str]:
    """Resolve the secret references of a host's profile (extra.serving.token, ...) into values for the roles."""
    extra = (hostvars.get("rackctl_profile") or {}).get("extra") or {}
    found = {}
    for (section, key), name in PROFILE_SECRETS.items():
        ref = (extra.get(section) or {}).get(key)
        if ref:
            try:
                found[name] = secret_refs.resolve(str(ref)).value
            except ConfigError as exc:
                raise PlaybookError(f"{hostvars.get('inventory_hostname', 'host')}: {exc}") from None
    return found


def inventory_yaml(document: dict[str, Any], hosts: tuple[str, ...]) -> dict[str, Any]:
    """The dynamic-inventory `--list` document as a static inventory of `hosts` (host variables, group membership),
    each host's resolved secrets under `rackctl_secrets`."""
    hostvars = document.get("_meta", {}).get("hostvars", {})
    groups: dict[str, Any] = {}
    for name, group in document.items():
        members = [h for h in (group.get("hosts", []) if isinstance(group, dict) else []) if h in hosts]
        if name not in ("_meta", "all") and members:
            groups[name] = {"hosts": {h: None for h in members}}
    entries = {}
    for host in hosts:
        values = dict(hostvars.get(host, {}))
        values["rackctl_secrets"] = host_secrets({**values, "inventory_hostname": host})
        entries[host] = values
    return {"all": {"hosts": entries, "children": groups}}


@contextmanager
def run_folder(
    state_dir: Path, inventory: dict[str, Any], extra_vars: dict[str, Any], pins: Pins | None = None
) -> Iterator[Path]:
    """A fresh 0700 folder with `inventory/hosts.json`, `env/extravars` and `known_hosts` (all 0600), every host
    checking SSH host keys against that file alone; cleaned when done."""
    runs = state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = runs / f"{stamp}-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    (folder / "env").mkdir(mode=0o700)
    (folder / "inventory").mkdir(mode=0o700)
    pins = pins or Pins()
    write_private(folder / KNOWN_HOSTS, pins.known_hosts)
    pin_hosts(inventory, folder / KNOWN_HOSTS, pins)
    _owner_only_file(folder / "inventory" / "hosts.json", inventory)
    _owner_only_file(folder / "env" / "extravars", extra_vars)
    try:
        yield folder
    finally:
        scrub(folder)
        prune(runs)


def scrub(folder: Path) -> None:
    """Remove what may hold secrets: variables, inventory, and ansible-runner's record of the command's environment."""
    for path in (folder / "env" / "extravars", folder / "inventory" / "hosts.json"):
        path.unlink(missing_ok=True)
    for command in folder.glob("artifacts/*/command"):
        command.unlink()


def prune(runs: Path, keep: int = KEEP_RUNS) -> None:
    """Keep the newest `keep` run folders (names sort by time)."""
    folders = sorted(p for p in runs.iterdir() if p.is_dir())
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
