"""SSH host keys on the wire (paramiko, also under netmiko): only the keys the inventory pins are accepted.

Pinned keys reach a driver in `Endpoint.options["host_keys"]` as [key type, base64] pairs. `PinnedClient`
loads exactly those for the address, so paramiko asks for the pinned key type, and refuses anything else
before authenticating, so no password is ever offered to an impostor:

- nothing pinned: HostKeyUnknown, with the fingerprint presented and the command that trusts it;
- another key: HostKeyChanged, with both fingerprints.

~/.ssh/known_hosts is neither read nor written. `scan` reads the key a server presents without logging in
(what `rackctl trust` shows and records).
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Sequence
from typing import Any

import paramiko

from rackctl.drivers.sshkeys import SSH_PORT, fingerprint, known_hosts_name
from rackctl.errors import ConnectError, HostKeyChanged, HostKeyUnknown, Timeout
from rackctl.types import Endpoint


def _trust_hint(device: str) -> str:
    return f"compare the fingerprint with the host's own (its console: ssh-keygen -lf), then: rackctl trust {device}"


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Nothing is pinned for this host: refuse, naming what it presented."""

    def __init__(self, device: str) -> None:
        self.device = device

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyUnknown(
            f"{self.device} ({hostname}): no SSH host key is pinned in the inventory; "
            f"it presented {key.get_name()} {fingerprint(key.get_base64())}; nothing was sent to it "
            f"(to trust it: rackctl trust {self.device})",
            hint=_trust_hint(self.device),
        )


class PinnedClient(paramiko.SSHClient):
    """An SSHClient that accepts only the pinned keys; its refusal policy cannot be replaced."""

    def __init__(self, device: str, address: str, port: int | None, pinned: Sequence[Sequence[str]]) -> None:
        super().__init__()
        self.device = device
        name = known_hosts_name(address, port)
        for key_type, blob in pinned:
            self.get_host_keys().add(name, key_type, paramiko.PKey.from_type_string(key_type, base64.b64decode(blob)))
        super().set_missing_host_key_policy(_RefuseUnknown(device))

    def set_missing_host_key_policy(self, policy: Any) -> None:
        # NOTE(netmiko 4.x): it installs its own policy (AutoAdd unless ssh_strict) on the client it builds;
        # a pinned client keeps refusing unknown keys whatever it is given.
        return

    def connect(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().connect(*args, **kwargs)
        except paramiko.BadHostKeyException as exc:
            self.close()
            raise HostKeyChanged(
                f"{self.device} ({exc.hostname}): SSH HOST KEY CHANGED: the inventory pins "
                f"{exc.expected_key.get_name()} {fingerprint(exc.expected_key.get_base64())}, the host presented "
                f"{exc.key.get_name()} {fingerprint(exc.key.get_base64())}. Someone may be impersonating it; "
                f"nothing was sent to it (if it was reinstalled: rackctl trust {self.device} --replace)",
                hint=f"if the host was reinstalled, check the new key on its console, then: "
                f"rackctl trust {self.device} --replace",
            ) from None
        except BaseException:
            self.close()
            raise


def client_for(endpoint: Endpoint) -> PinnedClient:
    """A client for the endpoint that accepts only the host keys pinned in its options."""
    pinned = endpoint.options.get("host_keys") or []
    return PinnedClient(endpoint.name, endpoint.address, endpoint.port, pinned)


def scan(address: str, port: int | None, timeout: float, prefer: Sequence[str] = ()) -> tuple[str, str]:
    """(key type, base64) of the host key the server presents; no authentication is attempted.

    `prefer`: key types to ask for first (those already pinned), so a host with several keys shows the one
    a pin can be compared with.
    """
    where = f"{known_hosts_name(address, port)}"
    try:
        sock = socket.create_connection((address, port or SSH_PORT), timeout=timeout)
    except TimeoutError:
        raise Timeout(f"{where}: SSH did not answer in time") from None
    except OSError as exc:
        raise ConnectError(f"{where}: {exc.strerror or exc}") from None
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    options = transport.get_security_options()
    first = [k for k in prefer if k in options.key_types]
    options.key_types = [*first, *(k for k in options.key_types if k not in first)]
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return key.get_name(), key.get_base64()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError(f"{where}: no SSH key exchange ({exc})") from None
    finally:
        transport.close()
