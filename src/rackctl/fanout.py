"""Run one blocking function over many targets: bounded concurrency, a deadline per target, bounded
retries for transient errors. Every target gets exactly one Result; `run` itself never raises.

BMC libraries block and sometimes hang (pyghmi has been seen to stall inside a call), so each attempt
runs in a daemon thread that is abandoned, not joined, when its deadline passes: a hung target costs
its own timeout and nothing else, and cannot keep the process alive at exit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rackctl.errors import Timeout, is_transient

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Result(Generic[R]):
    """One target's outcome: a value, or the error that ended its last attempt."""

    target: str
    value: R | None = None
    error: BaseException | None = None
    attempts: int = 1
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        if self.error is None:
            return ""
        return str(self.error) or type(self.error).__name__


@dataclass
class Options:
    workers: int = 64
    timeout: float = 10.0  # seconds per attempt
    retries: int = 1  # extra attempts after a transient failure (ConnectError, Timeout)
    retry_delay: float = 0.2
    progress: Callable[[Result[Any]], None] | None = field(default=None, repr=False)


def _attempt(fn: Callable[[T], R], item: T, timeout: float) -> R:
    box: dict[str, Any] = {}
    done = threading.Event()

    def body() -> None:
        try:
            box["value"] = fn(item)
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=body, daemon=True, name="rackctl-target").start()
    if not done.wait(timeout):
        raise Timeout(f"no answer within {timeout:g}s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def run_one(fn: Callable[[T], R], item: T, name: str, options: Options) -> Result[R]:
    """Run fn(item) with the deadline and retries of `options`; never raises."""
    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            value = _attempt(fn, item, options.timeout)
            return Result(name, value=value, attempts=attempts, seconds=time.monotonic() - started)
        except BaseException as exc:
            if attempts > options.retries or not is_transient(exc):
                return Result(name, error=exc, attempts=attempts, seconds=time.monotonic() - started)
        time.sleep(options.retry_delay)


def run(
    fn: Callable[[T], R],
    items: Sequence[T],
    names: Sequence[str] | None = None,
    options: Options | None = None,
) -> list[Result[R]]:
    """fn over every item, at most `options.workers` at once; results in the order of `items`."""
    options = options or Options()
    labels = list(names) if names is not None else [str(i) for i in items]
    results: list[Result[R] | None] = [None] * len(items)
    slots = threading.BoundedSemaphore(max(1, options.workers))
    lock = threading.Lock()

    def worker(index: int) -> None:
        try:
            result = run_one(fn, items[index], labels[index], options)
            results[index] = result
            if options.progress is not None:
                with lock:
                    options.progress(result)
        finally:
            slots.release()

    threads = []
    for index in range(len(items)):
        slots.acquire()
        thread = threading.Thread(target=worker, args=(index,), daemon=True, name="rackctl-fanout")
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return [r if r is not None else Result(labels[i], error=RuntimeError("no result")) for i, r in enumerate(results)]
