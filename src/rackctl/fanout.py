"""Run one blocking function over many targets: bounded concurrency, a deadline per target, bounded
retries for transient errors. Every target gets exactly one Result; `run` itself never raises.

BMC libraries block and sometimes hang (pyghmi has been seen to stall inside a call), so each attempt
runs in a daemon thread that is abandoned, not joined, when its deadline passes: a hung target costs
its own timeout and nothing else, and cannot keep the process alive at exit.

A `Stop` (set by the CLI's SIGINT/SIGTERM handler) ends a run early without losing a result: no new
target starts (those get NotStarted), targets in flight may finish within `grace_s` and keep their real
result, and any still running after that get Unknown - nobody knows what they did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from rackctl.errors import NotStarted, Timeout, Unknown, is_transient

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


class Stop:
    """A request to end runs early: `request` once to start no more targets, `abandon` to stop waiting too."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.abandoned = threading.Event()
        self.reason = ""  # what asked: "SIGINT", "SIGTERM"

    def request(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.requested.set()

    def abandon(self) -> None:
        self.abandoned.set()
        self.requested.set()

    def __bool__(self) -> bool:
        return self.requested.is_set()


@dataclass
class Options:
    workers: int = 64
    timeout: float = 10.0  # seconds per attempt
    retries: int = 1  # extra attempts after a transient failure (ConnectError, Timeout)
    retry_delay: float = 0.2
    progress: Callable[[Result[Any]], None] | None = field(default=None, repr=False)
    stop: Stop | None = field(default=None, repr=False, compare=False)
    grace_s: float = 30.0  # after a stop, how long targets in flight may take to finish


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
            if attempts > options.retries or not is_transient(exc) or options.stop:
                return Result(name, error=exc, attempts=attempts, seconds=time.monotonic() - started)
        time.sleep(options.retry_delay)


class Joinable(Protocol):
    """What `RunState.wait` waits for: a worker thread, or a whole run on an event loop (`fanout_loop`)."""

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


class RunState(Generic[T, R]):
    """One fan-out's shared state: results as workers finish, and whether the caller stopped listening."""

    def __init__(self, fn: Callable[[T], R] | None, items: Sequence[T], labels: list[str], options: Options) -> None:
        self.fn, self.items, self.labels, self.options = fn, items, labels, options
        self.results: list[Result[R] | None] = [None] * len(items)
        self.started = [False] * len(items)
        self.slots = threading.BoundedSemaphore(max(1, options.workers))
        self.lock = threading.Lock()
        self.closed = False  # set once the caller has its results: late finishers are dropped

    def worker(self, index: int) -> None:
        try:
            assert self.fn is not None  # threads run `fn`; a run on an event loop keeps its own results
            self.keep(index, run_one(self.fn, self.items[index], self.labels[index], self.options))
        finally:
            self.slots.release()

    def keep(self, index: int, result: Result[R]) -> None:
        """A target's result, shown and logged as it comes; dropped once the caller has its results."""
        with self.lock:
            if self.closed:
                return
            self.results[index] = result
            if self.options.progress is not None:
                self.options.progress(result)

    def start_all(self) -> list[threading.Thread]:
        threads = []
        for index in range(len(self.items)):
            if not self._slot():
                break
            thread = threading.Thread(target=self.worker, args=(index,), daemon=True, name="rackctl-fanout")
            self.started[index] = True
            thread.start()
            threads.append(thread)
        return threads

    def _slot(self) -> bool:
        """Wait for a free worker slot; False once a stop was requested (no new target starts)."""
        stop = self.options.stop
        if stop is None:
            self.slots.acquire()
            return True
        while not self.slots.acquire(timeout=0.1):
            if stop:
                return False
        if stop:
            self.slots.release()
            return False
        return True

    def wait(self, threads: Sequence[Joinable]) -> None:
        """Join the workers; after a stop, only within the grace period (or not at all once abandoned)."""
        stop = self.options.stop
        if stop is None:
            for thread in threads:
                thread.join()
            return
        deadline: float | None = None
        for thread in threads:
            while thread.is_alive():
                if stop and deadline is None:
                    deadline = time.monotonic() + self.options.grace_s
                if stop.abandoned.is_set() or (deadline is not None and time.monotonic() >= deadline):
                    return
                thread.join(0.1)

    def close(self) -> list[Result[R]]:
        """Every target's result: its own, or NotStarted / Unknown when a stop cut it off."""
        with self.lock:
            self.closed = True
            return [self._final(i, r) for i, r in enumerate(self.results)]

    def _final(self, index: int, result: Result[R] | None) -> Result[R]:
        if result is not None:
            return result
        label, reason = self.labels[index], self.options.stop.reason if self.options.stop else ""
        why = f" ({reason})" if reason else ""
        if not self.started[index]:
            return Result(label, error=NotStarted(f"not started: interrupted{why} before its turn"), attempts=0)
        return Result(label, error=Unknown(f"unknown: in flight when interrupted{why}; its state was not confirmed"))


def run(
    fn: Callable[[T], R],
    items: Sequence[T],
    names: Sequence[str] | None = None,
    options: Options | None = None,
) -> list[Result[R]]:
    """fn over every item, at most `options.workers` at once; results in the order of `items`."""
    options = options or Options()
    labels = list(names) if names is not None else [str(i) for i in items]
    state = RunState(fn, items, labels, options)
    state.wait(state.start_all())
    return state.close()
