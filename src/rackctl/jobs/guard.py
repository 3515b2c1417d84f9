"""A running job's bounds: its deadline and `rackctl jobs cancel --abort`, both as the fan-out's stop.

A stuck job (a device that never answers past its own timeout, a hung library call) must not hold a
worker slot for ever: when the deadline passes, the fan-out starts no more targets, gives those in
flight their grace and records the rest as not started or unknown - the same path as Ctrl-C in a
direct run. An abort request from `rackctl jobs cancel --abort` does the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rackctl.fanout import Stop

POLL_S = 1.0


@contextmanager
def bounded(deadline_s: float, should_abort: Callable[[], bool], poll_s: float = POLL_S) -> Iterator[Stop]:
    """A Stop that is requested when `deadline_s` passes or the job is asked to abort."""
    stop, done = Stop(), threading.Event()
    ends = time.monotonic() + deadline_s

    def watch() -> None:
        while not done.wait(min(poll_s, max(0.0, ends - time.monotonic()))):
            if time.monotonic() >= ends:
                stop.request(f"job timeout ({deadline_s:g}s)")
                return
            if should_abort():
                stop.request("abort requested (rackctl jobs cancel --abort)")
                return

    watcher = threading.Thread(target=watch, daemon=True, name="rackctl-job-guard")
    watcher.start()
    try:
        yield stop
    finally:
        done.set()
        watcher.join()
