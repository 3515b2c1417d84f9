"""GPU node hosts over SSH (paramiko): one session per host running one compact probe script.

The probe (host_probe.sh) is read-only POSIX sh that prints delimited sections; hostfacts parses
them. Endpoint.options may carry `key_filename` (a private key) and must carry `host_keys`, the keys the
inventory pins for the host (drivers/ssh_trust.py): any other key, or none pinned, is refused before
anything is sent.
"""

from __future__ import annotations

import logging
import shlex
import socket
from types import TracebackType

import paramiko

from rackctl.drivers import ssh_trust
from rackctl.drivers.base import ProbeRequest
from rackctl.drivers.hostfacts import HostFacts
from rackctl.drivers.hostfacts.probe import SCRIPT, parse_output
from rackctl.errors import AuthError, CommandError, ConnectError, DriverError, Timeout
from rackctl.types import Endpoint

# NOTE(paramiko 3.x-5.x): the transport thread logs every connection error it also raises to the
# caller; with no handler configured Python prints those tracebacks on stderr. Errors reach the user
# through rackctl's own messages instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def _translate(endpoint: Endpoint, exc: BaseException) -> DriverError:
    """paramiko's and the socket layer's exceptions as rackctl's: the one place this driver does it."""
    where = f"{endpoint.name} ({endpoint.address})"
    if isinstance(exc, DriverError):  # a refused host key, already ours
        return exc
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthError(f"{where}: SSH authentication failed for {endpoint.username}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return Timeout(f"{where}: SSH did not answer in time")
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        # paramiko folds one socket error per address family into this one; the first says it all.
        first = next(iter(exc.errors.values()), exc)
        return ConnectError(f"{where}: {getattr(first, 'strerror', None) or first} (port {endpoint.port or 22})")
    if isinstance(exc, paramiko.SSHException | OSError | EOFError):
        return ConnectError(f"{where}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    return DriverError(f"{where}: {exc}")


def probe_command(request: ProbeRequest) -> str:
    """The remote command that runs the probe script (sent on stdin) for `request`, quoted for the shell."""
    args = (" ".join(request.interfaces), " ".join(request.units), request.health_url)
    return "sh -s -- " + " ".join(shlex.quote(a) for a in args)


class HostSsh:
    """A HostProbe over SSH; use as a context manager (connect on enter, close on exit)."""

    def __init__(self, endpoint: Endpoint, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._client: paramiko.SSHClient | None = None

    def __enter__(self) -> HostSsh:
        client = ssh_trust.client_for(self.endpoint)
        try:
            client.connect(**self._connect_args())
        except Exception as exc:
            client.close()
            raise _translate(self.endpoint, exc) from None
        self._client = client
        return self

    def _connect_args(self) -> dict[str, object]:
        key = self.endpoint.options.get("key_filename")
        return {
            "hostname": self.endpoint.address,
            "port": self.endpoint.port or 22,
            "username": self.endpoint.username or None,
            "password": self.endpoint.password.value if self.endpoint.password else None,
            "key_filename": str(key) if key else None,
            "look_for_keys": not key,
            "allow_agent": not key,
            "timeout": self.timeout,
            "banner_timeout": self.timeout,
            "auth_timeout": self.timeout,
        }

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def run_probe(self, request: ProbeRequest) -> str:
        """Run the probe script once and return everything it printed."""
        if self._client is None:
            raise ConnectError(f"{self.endpoint.name}: not connected")
        try:
            stdin, stdout, _ = self._client.exec_command(probe_command(request), timeout=self.timeout)
            stdin.write(SCRIPT.read_bytes())
            stdin.channel.shutdown_write()
            output = stdout.read().decode("utf-8", errors="replace")
            status = stdout.channel.recv_exit_status()
        except Exception as exc:
            raise _translate(self.endpoint, exc) from None
        if "@@rackctl@@" not in output:
            raise CommandError(f"{self.endpoint.name}: the probe did not run (exit {status}): {output.strip()[:200]}")
        return output

    def facts(self, request: ProbeRequest) -> HostFacts:
        return parse_output(self.run_probe(request))
