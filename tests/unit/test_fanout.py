"""The fan-out engine: one result per target, deadlines, bounded retries, never raising."""

from __future__ import annotations

import threading
import time

import pytest

from rackctl import fanout
from rackctl.errors import AuthError, ConnectError, Timeout


def test_every_target_gets_a_result_in_order() -> None:
    results = fanout.run(lambda x: x * 2, [3, 1, 2], ["a", "b", "c"], fanout.Options(workers=2, timeout=1))
    assert [(r.target, r.value, r.ok) for r in results] == [("a", 6, True), ("b", 2, True), ("c", 4, True)]


def test_one_failure_does_not_stop_the_others() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise ValueError("broken node")
        return item

    results = fanout.run(work, [1, 2, 3], options=fanout.Options(timeout=1, retries=0))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].message == "broken node"


def test_a_hung_target_costs_its_deadline_only() -> None:
    release = threading.Event()

    def work(item: str) -> str:
        if item == "hung":
            release.wait(30)
        return item

    started = time.monotonic()
    results = fanout.run(work, ["ok", "hung", "ok2"], options=fanout.Options(timeout=0.3, retries=0))
    elapsed = time.monotonic() - started
    release.set()
    assert elapsed < 2
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, Timeout)


def test_transient_errors_are_retried_a_bounded_number_of_times() -> None:
    calls: list[str] = []

    def work(item: str) -> str:
        calls.append(item)
        raise ConnectError("no answer")

    results = fanout.run(work, ["x"], options=fanout.Options(timeout=1, retries=2, retry_delay=0))
    assert len(calls) == 3
    assert results[0].attempts == 3
    assert not results[0].ok


def test_auth_errors_are_not_retried() -> None:
    calls: list[str] = []

    def work(item: str) -> str:
        calls.append(item)
        raise AuthError("wrong password")

    results = fanout.run(work, ["x"], options=fanout.Options(timeout=1, retries=5))
    assert calls == ["x"]
    assert isinstance(results[0].error, AuthError)


def test_concurrency_is_bounded() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def work(item: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return item

    fanout.run(work, list(range(40)), options=fanout.Options(workers=5, timeout=2))
    assert peak <= 5


def test_progress_sees_every_result() -> None:
    seen: list[str] = []
    options = fanout.Options(timeout=1, progress=lambda r: seen.append(r.target))
    fanout.run(lambda x: x, [1, 2, 3], ["a", "b", "c"], options)
    assert sorted(seen) == ["a", "b", "c"]


@pytest.mark.parametrize("workers", [1, 64])
def test_empty_target_list(workers: int) -> None:
    assert fanout.run(lambda x: x, [], options=fanout.Options(workers=workers)) == []
