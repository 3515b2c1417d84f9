"""Follow long BMC work across resets: a Redfish task to its end, a BMC back after its own reset.

A BMC that applies its own firmware drops its sessions, forgets its tasks for a while and stops
answering (Dell's DeviceFirmwareMultipartUploadREDFISH.py waits through 401, 404, 500 and 503). So
each poll that fails for such a reason closes the session and the next one opens a new one; only the
deadline ends the wait. Every wait here is bounded and polls a condition; none sleeps a fixed margin.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from rackctl.drivers.bmcconfig import TaskStatus
from rackctl.errors import AuthError, ConnectError, DriverError, Timeout
from rackctl.services.bmc import BmcTarget, driver_for

T = TypeVar("T")
_PASSING = (ConnectError, AuthError, Timeout)  # what a resetting BMC answers


class StillWaiting(Timeout):
    """The deadline passed; `last` is the last value read, or the error of a BMC that stayed away."""

    def __init__(self, message: str, last: Any) -> None:
        super().__init__(message)
        self.last = last

    @property
    def away(self) -> bool:
        return isinstance(self.last, DriverError)


@dataclass(frozen=True)
class Waits:
    task_s: float = 1800.0  # how long an update task may run
    bmc_s: float = 600.0  # how long a BMC may stay away after its own reset (or a host reboot)
    poll_s: float = 2.0


class Session:
    """One driver session that is reopened after a failure, for a series of polls."""

    def __init__(self, target: BmcTarget) -> None:
        self.target = target
        self._bmc: Any = None

    def call(self, operation: Callable[[Any], T]) -> T:
        if self._bmc is None:
            self._bmc = driver_for(self.target).__enter__()
        try:
            return operation(self._bmc)
        except _PASSING:
            self.close()
            raise

    def close(self) -> None:
        if self._bmc is not None:
            with suppress(Exception):
                self._bmc.__exit__(None, None, None)
            self._bmc = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def poll(target: BmcTarget, read: Callable[[Any], T], done: Callable[[T], bool], seconds: float, every: float) -> T:
    """Read until `done` says so; errors of a BMC that is away are waited out until the deadline.

    Raises StillWaiting naming the last thing seen (a value or an error) when the deadline passes.
    """
    deadline = time.monotonic() + seconds
    last: Any = None
    with Session(target) as session:
        while True:
            try:
                value = session.call(read)
                if done(value):
                    return value
                last = value
            except _PASSING as exc:
                last = exc
            if time.monotonic() >= deadline:
                raise StillWaiting(f"not done within {seconds:g}s (last: {_describe(last)})", last)
            time.sleep(every)


def _describe(last: Any) -> str:
    if isinstance(last, DriverError):
        return f"{type(last).__name__}: {last}"
    if isinstance(last, TaskStatus):
        return f"task {last.state}" + (f" {last.percent}%" if last.percent is not None else "")
    return str(last) if last is not None else "no answer"


def follow(target: BmcTarget, uri: str, waits: Waits) -> TaskStatus:
    """The task at `uri` once it ended (well or not)."""
    try:
        return poll(target, lambda bmc: bmc.task_status(uri), lambda s: s.done, waits.task_s, waits.poll_s)
    except StillWaiting as exc:
        raise StillWaiting(f"update task {uri}: {exc}", exc.last) from None
