"""`fanout.run` for operations that are coroutines on one event loop: one task per target, no thread.

The thread fan-out hands every target to two threads (the worker and its abandonable attempt), and each
of its round trips from those threads to an asyncio loop and back (the RMCP+ engine's): over a thousand
BMCs those hand-offs, and the threads' turns at the GIL, cost more CPU and waiting than the protocol.
Here the targets run on the loop itself, with the same contract as `fanout.run`: at most
`options.workers` at once, `options.timeout` per attempt, bounded retries of transient errors, every
target exactly one Result (NotStarted / Unknown after a Stop, as there), results in the order given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from rackctl.errors import Timeout, is_transient
from rackctl.fanout import Options, Result, RunState

T = TypeVar("T")
R = TypeVar("R")


async def attempts(fn: Callable[[T], Awaitable[R]], item: T, name: str, options: Options) -> Result[R]:
    """`fanout.run_one` as a coroutine: fn(item) with the per-attempt deadline and retries; never raises."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            async with asyncio.timeout(options.timeout):  # in this task: wait_for would make one more per target
                value = await fn(item)
            return Result(name, value=value, attempts=attempt, seconds=time.monotonic() - started)
        except TimeoutError:
            error: Exception = Timeout(f"no answer within {options.timeout:g}s")
        except Exception as exc:  # a target's failure is its result; cancellation (BaseException) ends the run
            error = exc
        if attempt > options.retries or not is_transient(error) or options.stop:
            return Result(name, error=error, attempts=attempt, seconds=time.monotonic() - started)
        await asyncio.sleep(options.retry_delay)


Admit = Callable[[T], Awaitable[BaseException | None]]


async def _all(state: RunState[T, R], fn: Callable[[T], Awaitable[R]], admit: Admit[T] | None) -> None:
    slots = asyncio.Semaphore(max(1, state.options.workers))
    stop = state.options.stop

    async def one(index: int) -> None:
        if admit is not None and (refusal := await admit(state.items[index])) is not None:
            state.keep(index, Result(state.labels[index], error=refusal))
            return
        async with slots:
            if stop:
                return  # no new target starts after a stop: its result says NotStarted
            state.started[index] = True
            state.keep(index, await attempts(fn, state.items[index], state.labels[index], state.options))

    await asyncio.gather(*(one(index) for index in range(len(state.items))))


class _Pending:
    """The whole run as `RunState.wait` sees a worker thread."""

    def __init__(self, future: concurrent.futures.Future[Any]) -> None:
        self.future = future

    def is_alive(self) -> bool:
        return not self.future.done()

    def join(self, timeout: float | None = None) -> None:
        concurrent.futures.wait([self.future], timeout)


def run(
    fn: Callable[[T], Awaitable[R]],
    items: Sequence[T],
    loop: asyncio.AbstractEventLoop,
    names: Sequence[str] | None = None,
    options: Options | None = None,
    admit: Admit[T] | None = None,
) -> list[Result[R]]:
    """fn over every item as tasks on `loop` (running in another thread), at most `options.workers` at once.

    `admit(item)`, awaited before an item waits for a slot, may refuse it: its error is the item's result
    (a BMC that does not answer its first request), and the others start as soon as each is admitted."""
    options = options or Options()
    labels = list(names) if names is not None else [str(i) for i in items]
    state: RunState[T, R] = RunState(None, items, labels, options)
    future = asyncio.run_coroutine_threadsafe(_all(state, fn, admit), loop)
    state.wait([_Pending(future)])
    future.cancel()  # after an abandoned stop or the grace period: targets still running end here
    return state.close()
