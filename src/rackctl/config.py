"""Settings: a TOML file plus environment variables, read once per command.

Precedence: environment (RACKCTL_*) over the file over built-in defaults. The file is
`$RACKCTL_CONFIG`, else `$XDG_CONFIG_HOME/rackctl/config.toml` (may be absent).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from rackctl.errors import ConfigError


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "rackctl"


def default_state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "rackctl"


def default_secret_dirs() -> tuple[Path, ...]:
    return (_xdg("XDG_CONFIG_HOME", ".config") / "rackctl" / "secrets", Path("/etc/rackctl/secrets"))


def config_path() -> Path:
    explicit = os.environ.get("RACKCTL_CONFIG")
    return Path(explicit) if explicit else _xdg("XDG_CONFIG_HOME", ".config") / "rackctl" / "config.toml"


@dataclass(frozen=True)
class Settings:
    """Everything a command may tune. Field names are the TOML keys and, upper-cased, the env suffixes."""

    db_url: str = ""
    workers: int = 64  # like FreeIPMI's default fan-out
    timeout: float = 10.0  # seconds per target, per attempt
    retries: int = 1
    confirm_over: int = 1  # destructive actions on more targets than this ask first
    max_targets: int = 200_000  # the most names one target expression may select
    state_dir: str = ""
    template_dirs: tuple[str, ...] = field(default_factory=tuple)
    devicetype_dirs: tuple[str, ...] = field(default_factory=tuple)
    ssh_user: str = "root"  # how rackctl logs in to hosts (audits)
    ssh_key: str = ""  # private key file; empty: the user's keys and agent
    ssh_known_hosts: str = ""  # an OpenSSH known_hosts file `rackctl trust` may take host keys from
    # Where `file:` secret references may point (empty: the defaults below); `env:` names need the prefix.
    secret_dirs: tuple[str, ...] = field(default_factory=tuple)
    secret_env_prefix: str = "RACKCTL_"
    secret_max_bytes: int = 65536
    source: str = "defaults"

    @property
    def resolved_db_url(self) -> str:
        return self.db_url or f"sqlite:///{default_data_dir() / 'inventory.db'}"

    @property
    def resolved_state_dir(self) -> Path:
        return Path(self.state_dir) if self.state_dir else default_state_dir()

    @cached_property  # checked once per secret reference: a thousand nodes' credentials in one command
    def resolved_secret_dirs(self) -> tuple[Path, ...]:
        """The folders `file:` references may point into, first the one new secrets are written to."""
        return tuple(Path(d) for d in self.secret_dirs) if self.secret_dirs else default_secret_dirs()


_COERCE = {int: int, float: float, str: str}


def _coerce(name: str, raw: Any, kind: Any, where: str) -> Any:
    if kind == "tuple[str, ...]":
        items = raw.split(os.pathsep) if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{where}: '{name}' must be a list of paths")
        return tuple(items)
    target = {"int": int, "float": float, "str": str}[kind]
    try:
        value = target(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: '{name}' must be {kind}, got {raw!r}") from None
    if target in (int, float) and value < 0:
        raise ConfigError(f"{where}: '{name}' must not be negative")
    return value


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read settings from the config file and the environment."""
    env = dict(os.environ) if env is None else env
    path = path or config_path()
    values: dict[str, Any] = {}
    known = {f.name: f.type for f in fields(Settings) if f.name != "source"}
    source = "defaults"
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        for key, raw in data.items():
            if key not in known:
                raise ConfigError(f"{path}: unknown setting '{key}'", hint=f"known: {', '.join(known)}")
            values[key] = _coerce(key, raw, known[key], str(path))
        source = str(path)
    for key, kind in known.items():
        raw = env.get(f"RACKCTL_{key.upper()}")
        if raw:
            values[key] = _coerce(key, raw, kind, f"RACKCTL_{key.upper()}")
    return replace(Settings(), source=source, **values)
