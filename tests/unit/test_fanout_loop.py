"""The fan-out on an event loop keeps `fanout.run`'s contract: one result per target in order, deadlines,
bounded retries, bounded concurrency, never raising, NotStarted/Unknown after a stop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

import pytest

from rackctl import fanout, fanout_loop
from rackctl.errors import AuthError, ConnectError, NotStarted, Timeout, Unknown

T = TypeVar("T")
R = TypeVar("R")


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


Run = Callable[..., list[fanout.Result[R]]]


@pytest.fixture
def run(loop: asyncio.AbstractEventLoop) -> Run[object]:
    def go(
        fn: Callable[[T], Awaitable[R]], items: Sequence[T], names: Sequence[str] | None = None, **options: object
    ) -> list[fanout.Result[R]]:
        return fanout_loop.run(fn, items, loop, names, fanout.Options(**options))  # type: ignore[arg-type]

    return go  # type: ignore[return-value]


async def until(event: threading.Event, limit: float = 30.0) -> None:
    """Wait on the loop for an event set by another thread (bounded)."""
    for _ in range(int(limit / 0.01)):
        if event.is_set():
            return
        await asyncio.sleep(0.01)


def test_every_target_gets_a_result_in_order(run: Run[object]) -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0.01 * x)  # finishing out of order
        return x * 2

    results = run(double, [3, 1, 2], ["a", "b", "c"], workers=2, timeout=5)
    assert [(r.target, r.value, r.ok) for r in results] == [("a", 6, True), ("b", 2, True), ("c", 4, True)]


def test_one_failure_does_not_stop_the_others(run: Run[object]) -> None:
    async def work(item: int) -> int:
        if item == 2:
            raise ValueError("broken node")
        return item

    results = run(work, [1, 2, 3], timeout=1, retries=0)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].message == "broken node"


def test_a_hung_target_costs_its_deadline_only(run: Run[object]) -> None:
    async def work(item: str) -> str:
        if item == "hung":
            await asyncio.sleep(30)
        return item

    results = run(work, ["ok", "hung", "ok2"], timeout=0.3, retries=0)
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, Timeout) and results[1].message == "no answer within 0.3s"


def test_transient_errors_are_retried_a_bounded_number_of_times_and_auth_errors_never(run: Run[object]) -> None:
    calls: list[str] = []

    async def work(item: str) -> str:
        calls.append(item)
        raise ConnectError("no answer") if item == "dead" else AuthError("wrong password")

    results = run(work, ["dead", "locked"], timeout=1, retries=2, retry_delay=0)
    assert calls.count("dead") == 3 and calls.count("locked") == 1
    assert [r.attempts for r in results] == [3, 1]
    assert isinstance(results[1].error, AuthError)


def test_concurrency_is_bounded_and_progress_sees_every_result(run: Run[object]) -> None:
    active = peak = 0
    seen: list[str] = []

    async def work(item: int) -> int:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return item

    results = run(work, list(range(40)), workers=5, timeout=5, progress=lambda r: seen.append(r.target))
    assert 1 < peak <= 5
    assert all(r.ok for r in results) and sorted(seen) == sorted(str(i) for i in range(40))


def test_empty_target_list(run: Run[object]) -> None:
    async def work(item: int) -> int:
        return item

    assert run(work, []) == []


def _stopping_run(
    run: Run[str], stop: fanout.Stop, started: threading.Event, release: threading.Event, grace_s: float = 30.0
) -> list[fanout.Result[str]]:
    """Three targets, one at a time: the first is in flight (until `release`) when the stop comes."""

    async def work(item: str) -> str:
        started.set()
        await until(release)
        return f"{item} done"

    return run(work, ["a", "b", "c"], workers=1, timeout=30, retries=0, stop=stop, grace_s=grace_s)


def test_a_stop_lets_the_target_in_flight_finish_and_starts_no_other(run: Run[str]) -> None:
    stop, started, release = fanout.Stop(), threading.Event(), threading.Event()

    def interrupt() -> None:
        started.wait(30)
        stop.request("SIGINT")
        release.set()

    threading.Thread(target=interrupt).start()
    results = _stopping_run(run, stop, started, release)
    assert [(r.target, r.ok) for r in results] == [("a", True), ("b", False), ("c", False)]
    assert results[0].value == "a done"
    assert all(isinstance(r.error, NotStarted) and "interrupted (SIGINT)" in r.message for r in results[1:])


def test_abandoning_or_the_grace_period_records_the_target_in_flight_as_unknown(run: Run[str]) -> None:
    for abandon, grace_s in ((True, 30.0), (False, 0.2)):
        stop, started, release = fanout.Stop(), threading.Event(), threading.Event()

        def interrupt(stop: fanout.Stop = stop, started: threading.Event = started, abandon: bool = abandon) -> None:
            started.wait(30)
            stop.request("SIGTERM")
            if abandon:
                stop.abandon()

        threading.Thread(target=interrupt).start()
        results = _stopping_run(run, stop, started, release, grace_s)
        release.set()
        assert isinstance(results[0].error, Unknown) and "its state was not confirmed" in results[0].message
        assert [type(r.error) for r in results[1:]] == [NotStarted, NotStarted]


def test_no_retry_after_a_stop(run: Run[object]) -> None:
    stop = fanout.Stop()
    calls: list[str] = []

    async def work(item: str) -> str:
        calls.append(item)
        stop.request("SIGINT")
        raise ConnectError("no answer")

    results = run(work, ["x"], timeout=1, retries=3, retry_delay=0, stop=stop)
    assert calls == ["x"] and results[0].attempts == 1


def test_an_item_admit_refuses_gets_that_refusal_and_is_never_run(loop: asyncio.AbstractEventLoop) -> None:
    ran: list[str] = []

    async def work(item: str) -> str:
        ran.append(item)
        return item

    async def admit(item: str) -> BaseException | None:
        await asyncio.sleep(0.01 if item == "late" else 0)  # admitted later than the others
        return ConnectError(f"{item} does not answer") if item == "dead" else None

    results = fanout_loop.run(work, ["late", "dead", "ok"], loop, options=fanout.Options(timeout=5), admit=admit)
    assert [(r.target, r.ok, r.message) for r in results] == [
        ("late", True, ""),
        ("dead", False, "dead does not answer"),
        ("ok", True, ""),
    ]
    assert sorted(ran) == ["late", "ok"]
