"""The fan-out engine: one result per target, deadlines, bounded retries, never raising."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from rackctl import fanout, interrupts
from rackctl.errors import AuthError, ConnectError, NotStarted, Timeout, Unknown


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


def _stopping_run(
    stop: fanout.Stop, started: threading.Event, release: threading.Event, grace_s: float = 30.0
) -> list[fanout.Result[str]]:
    """Three targets, one at a time: the first is in flight (until `release`) when the stop comes."""

    def work(item: str) -> str:
        started.set()
        release.wait(30)
        return f"{item} done"

    options = fanout.Options(workers=1, timeout=30, retries=0, stop=stop, grace_s=grace_s)
    return fanout.run(work, ["a", "b", "c"], options=options)


def test_a_stop_lets_the_target_in_flight_finish_and_starts_no_other() -> None:
    stop, started, release = fanout.Stop(), threading.Event(), threading.Event()

    def interrupt() -> None:
        started.wait(30)
        stop.request("SIGINT")
        release.set()  # the target in flight finishes after the stop

    threading.Thread(target=interrupt).start()
    results = _stopping_run(stop, started, release)
    assert [(r.target, r.ok) for r in results] == [("a", True), ("b", False), ("c", False)]
    assert results[0].value == "a done"
    assert all(isinstance(r.error, NotStarted) and "interrupted (SIGINT)" in r.message for r in results[1:])


def test_abandoning_records_the_target_in_flight_as_unknown() -> None:
    stop, started, release = fanout.Stop(), threading.Event(), threading.Event()

    def interrupt_twice() -> None:
        started.wait(30)
        stop.request("SIGTERM")
        stop.abandon()

    threading.Thread(target=interrupt_twice).start()
    results = _stopping_run(stop, started, release)
    release.set()
    assert isinstance(results[0].error, Unknown) and "its state was not confirmed" in results[0].message
    assert [type(r.error) for r in results[1:]] == [NotStarted, NotStarted]


def test_the_grace_period_bounds_the_wait_for_targets_in_flight() -> None:
    stop, started, release = fanout.Stop(), threading.Event(), threading.Event()
    threading.Thread(target=lambda: (started.wait(30), stop.request("SIGINT"))).start()
    results = _stopping_run(stop, started, release, grace_s=0.2)
    release.set()
    assert isinstance(results[0].error, Unknown)


def test_no_retry_after_a_stop() -> None:
    stop = fanout.Stop()
    calls: list[str] = []

    def work(item: str) -> str:
        calls.append(item)
        stop.request("SIGINT")
        raise ConnectError("no answer")

    results = fanout.run(work, ["x"], options=fanout.Options(timeout=1, retries=3, retry_delay=0, stop=stop))
    assert calls == ["x"] and results[0].attempts == 1


def test_signals_reach_the_stop_and_the_old_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGINT)
    notes: list[str] = []
    with interrupts.handled(fanout.Stop(), notes.append) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested.wait(5) and stop.reason == "SIGINT" and not stop.abandoned.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.abandoned.wait(5)
    assert signal.getsignal(signal.SIGINT) is before
    assert interrupts.exit_code(stop) == 130
    assert notes[0].startswith("SIGINT: starting no more targets")
