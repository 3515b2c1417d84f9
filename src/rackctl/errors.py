"""The one exception tree of rackctl.

    RackctlError                      exit code 2 unless a fan-out says otherwise
    ├── ConfigError                   bad settings file, unresolvable secret reference
    │   └── MissingExtra              a command needs an optional extra that is not installed
    ├── InventoryError
    │   ├── NotFound                  a name that is not in the inventory
    │   ├── Conflict                  a name, U position, address, MAC or serial already taken
    │   │   └── Busy                  another operation holds a lease on the device
    │   └── ValidationError           bad input; carries where: file, line, field (or CSV row)
    ├── DriverError                   anything a device said or failed to say
    │   ├── ConnectError              no answer, refused, unreachable
    │   ├── AuthError                 wrong user or password
    │   │   ├── HostKeyUnknown        no SSH host key pinned for the device: `rackctl trust` first
    │   │   └── HostKeyChanged        the device presented another SSH host key than the pinned one
    │   ├── Timeout                   answered too late
    │   ├── CommandError              answered, but refused or failed the request
    │   └── Unsupported               the device cannot do this at all
    ├── PlaybookError                 an Ansible run could not start or finish
    └── Interrupted                   a signal stopped the run before this target's result came
        ├── NotStarted                its turn never came: the target was not touched
        └── Unknown                   it was in flight when the run gave up on it: state unknown

Vendor and library exceptions are translated into these in exactly one place per driver.
"""

from __future__ import annotations

from dataclasses import dataclass


class RackctlError(Exception):
    """Base of every error rackctl raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(RackctlError):
    """Settings or a secret reference cannot be used."""


class MissingExtra(ConfigError):
    """A command needs an optional extra (`pip install 'rackctl[switch]'`) that is not installed."""


class InventoryError(RackctlError):
    """The inventory refuses a request."""


class NotFound(InventoryError):
    """A named thing is not in the inventory."""


class Conflict(InventoryError):
    """The request collides with something already in the inventory."""


@dataclass(frozen=True)
class Location:
    """Where bad input sits: a file, and optionally a line and a field (or a CSV row)."""

    source: str | None = None
    line: int | None = None
    field: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.source:
            parts.append(_printable(self.source) + (f":{self.line}" if self.line else ""))
        elif self.line:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{_printable(self.field)}'")
        return ", ".join(parts)


def _printable(text: str) -> str:
    """`text` as it may reach a terminal: escaped when it holds anything unprintable (a newline, an escape)."""
    return text if text.isprintable() else ascii(text)[1:-1]


class ValidationError(InventoryError):
    """Input that cannot be accepted, with the place it came from."""

    def __init__(self, message: str, where: Location | None = None, *, hint: str | None = None) -> None:
        self.where = where or Location()
        self.reason = message
        text = f"{self.where}: {message}" if str(self.where) else message
        super().__init__(text, hint=hint)


class DriverError(RackctlError):
    """A device or its protocol failed the request."""


class ConnectError(DriverError):
    """The device could not be reached."""


class AuthError(DriverError):
    """The device rejected the credentials."""


class HostKeyUnknown(AuthError):
    """The inventory pins no SSH host key for the device, so nothing it says can be trusted yet."""


class HostKeyChanged(AuthError):
    """The device presented an SSH host key other than the pinned one: maybe not the device at all."""


class Timeout(DriverError):
    """The device did not answer in time."""


class CommandError(DriverError):
    """The device answered but refused or failed the request."""


class Unsupported(DriverError):
    """The device or driver cannot do this."""


class Busy(Conflict):
    """Another operation holds a lease on the device (see services/leases.py)."""


class PlaybookError(RackctlError):
    """An Ansible run could not start or finish."""


class Interrupted(RackctlError):
    """SIGINT or SIGTERM stopped the run before this target had its result."""


class NotStarted(Interrupted):
    """The run stopped before this target's turn: nothing was sent to it."""


class Unknown(Interrupted):
    """The target was in flight when the run gave up waiting: what it did is not known."""


def is_transient(error: BaseException) -> bool:
    """Whether retrying the same request might succeed."""
    return isinstance(error, ConnectError | Timeout)
