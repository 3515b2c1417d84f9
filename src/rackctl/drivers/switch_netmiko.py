"""Switches over SSH with netmiko: read the running configuration and LLDP, apply through the platform's
safe path (drivers/switch_platforms.py), verify, confirm or roll back.

The SSH session accepts only the host keys the inventory pins (Endpoint.options["host_keys"], checked by
drivers/ssh_trust.py before the password is sent). The enable secret is `options["enable_secret"]` (a
Secret the service fills from the endpoint's own `enable_ref`, or from the login password only when the
endpoint says `enable_uses_login`); without one, no secret is sent.

netmiko and paramiko exceptions become rackctl errors in `_translated`, the one place this driver does so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

from rackctl.drivers import ssh_trust
from rackctl.drivers.base import Neighbour
from rackctl.drivers.lldp import parse_ibnetdiscover, parse_lldp_table, parse_lldpctl_json
from rackctl.drivers.switch_platforms import PLATFORMS, Platform
from rackctl.errors import AuthError, CommandError, ConnectError, Timeout, Unsupported
from rackctl.types import Endpoint, Secret

_RC = re.compile(r"__rc=(\d+)__")


@contextmanager
def _translated(endpoint: Endpoint) -> Iterator[None]:
    from netmiko import exceptions as nx
    from paramiko.ssh_exception import SSHException

    where = f"{endpoint.name} ({endpoint.address})"
    try:
        yield
    except nx.NetmikoAuthenticationException:
        raise AuthError(f"{where}: SSH login refused for user '{endpoint.username}'") from None
    except nx.ReadTimeout as exc:
        raise Timeout(f"{where}: no prompt after a command: {str(exc).splitlines()[0]}") from None
    except nx.NetmikoTimeoutException as exc:
        raise ConnectError(f"{where}: {str(exc).splitlines()[0]}") from None
    except (SSHException, OSError, EOFError) as exc:
        raise ConnectError(f"{where}: {type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # netmiko raises ValueError for prompts and enable modes it cannot find
        raise CommandError(f"{where}: {exc}") from None


def _pinned_class(device_type: str, endpoint: Endpoint) -> Any:
    """netmiko's connection class for the device type, building its SSH client from the pinned host keys."""
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    if device_type not in CLASS_MAPPER:
        raise Unsupported(f"{endpoint.name}: netmiko has no device type {device_type!r}")
    base = CLASS_MAPPER[device_type]
    # netmiko builds its paramiko client in this hook (meant for subclasses): ours refuses unpinned keys.
    hook = {"_get_ssh_client_instance": lambda _: ssh_trust.client_for(endpoint)}
    return type(f"Pinned{base.__name__}", (base,), hook)


class NetmikoSwitch:
    """One SSH session to a switch; a context manager (connects on enter, disconnects on exit)."""

    def __init__(self, endpoint: Endpoint, platform: str) -> None:
        if platform not in PLATFORMS:
            raise Unsupported(f"{endpoint.name}: no switch driver for platform {platform!r}")
        self.endpoint = endpoint
        self.platform: Platform = PLATFORMS[platform](self)
        self._conn: Any = None

    def __enter__(self) -> NetmikoSwitch:
        ep = self.endpoint
        enable = ep.options.get("enable_secret")
        params: dict[str, Any] = {
            "host": ep.address,
            "port": ep.port or 22,
            "username": ep.username,
            "password": ep.password.value if ep.password else "",
            "secret": enable.value if isinstance(enable, Secret) else "",
            "conn_timeout": float(ep.options.get("timeout", 10)),
            "fast_cli": False,
            "ssh_strict": True,
            "system_host_keys": False,
            "alt_host_keys": False,
        }
        if ep.options.get("key_file"):
            params.update(use_keys=True, key_file=ep.options["key_file"], allow_agent=False)
        with _translated(ep):
            self._conn = _pinned_class(str(ep.options.get("device_type", self.platform.device_type)), ep)(**params)
            if self.platform.needs_enable:
                self._conn.enable()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._conn is not None:
            # Closing a broken session must not hide the error that broke it.
            with suppress(Exception):
                self._conn.disconnect()
            self._conn = None

    # --- round trips used by the platforms ---------------------------------------------------------
    def send(self, command: str, read_timeout: float = 30.0) -> str:
        """Run one CLI command and return its output."""
        # The terminal wraps a long command's echo, which netmiko then never recognises: do not wait for it.
        verify = len(command) < 200
        with _translated(self.endpoint):
            return str(self._conn.send_command(command, read_timeout=read_timeout, cmd_verify=verify))

    def shell(self, command: str, read_timeout: float = 60.0) -> str:
        """Run a shell command on a Linux-based switch; a non-zero exit status raises CommandError."""
        output = self.send(f"{command}; echo __rc=$?__", read_timeout)
        match = _RC.search(output)
        text = _RC.sub("", output).strip()
        if match is None or match.group(1) != "0":
            status = match.group(1) if match else "?"
            raise CommandError(f"{self.endpoint.name}: '{command.split()[0]}' failed (exit {status}): {text[-300:]}")
        return text

    def configure(self, lines: list[str], mode_command: str | None = None) -> str:
        """Enter configuration mode (or a named session), send lines, leave; errors in the output raise."""
        with _translated(self.endpoint):
            kwargs = {"config_mode_command": mode_command} if mode_command else {}
            output = str(self._conn.send_config_set(lines, cmd_verify=False, read_timeout=60, **kwargs))
        for marker in ("% Invalid", "% Incomplete", "% Ambiguous", "% Error", "% Unrecognized"):
            if marker in output:
                line = next(x for x in output.splitlines() if marker in x)
                raise CommandError(f"{self.endpoint.name}: the switch refused a line: {line.strip()}")
        return output

    # --- SwitchConfig ------------------------------------------------------------------------------
    def running_config(self) -> str:
        return self.platform.running_config()

    def apply(self, candidate: str) -> None:
        self.platform.apply(candidate)

    def verify(self) -> list[str]:
        return self.platform.verify()

    def confirm(self) -> None:
        self.platform.confirm()

    def rollback(self) -> None:
        self.platform.rollback()

    # --- NeighbourReader ---------------------------------------------------------------------------
    def neighbours(self) -> list[Neighbour]:
        kind, command = self.platform.lldp
        output = self.send(command)
        if kind == "lldpctl":
            return parse_lldpctl_json(output, self.endpoint.name)
        return parse_lldp_table(self.platform.device_type, command, output, self.endpoint.name)

    def ib_neighbours(self) -> list[Neighbour]:
        """The InfiniBand fabric as `ibnetdiscover` on this host sees it."""
        return parse_ibnetdiscover(self.shell("ibnetdiscover", read_timeout=120))
