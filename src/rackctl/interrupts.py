"""SIGINT and SIGTERM during work on devices: finish what is in flight, record everything, then stop.

The first signal asks the running fan-outs to start no new target (`fanout.Stop.request`); targets in
flight finish within the grace period and keep their real results. A second signal stops waiting for them
(their state becomes unknown). Either way every target gets its result in the operation log before the
command exits. Handlers are installed only around such work and only in the main thread (Python
delivers signals there); elsewhere the default behaviour stays.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from rackctl.fanout import Stop

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def handled(stop: Stop, notice: Callable[[str], None] = lambda _text: None) -> Iterator[Stop]:
    """Route SIGINT/SIGTERM to `stop` while the block runs; `notice` tells the person what happens next."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop:
            stop.abandon()
            notice(f"{name} again: no longer waiting; targets still in flight are recorded as unknown")
        else:
            stop.request(name)
            notice(f"{name}: starting no more targets; letting those in flight finish ({name} again: stop waiting)")

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_code(stop: Stop) -> int | None:
    """128 + the signal's number once a signal stopped the run (the shell's convention), else None."""
    if not stop.reason:
        return None
    return 128 + int(signal.Signals[stop.reason])
