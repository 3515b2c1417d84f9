"""A queued job's bounds: its deadline and an abort request both become the fan-out's stop, with why."""

from __future__ import annotations

import threading

from rackctl import fanout
from rackctl.jobs import guard

BOUND_S = 30.0


def test_a_job_past_its_deadline_is_stopped_and_says_so() -> None:
    with guard.bounded(0.05, lambda: False, poll_s=0.01) as stop:
        assert stop.requested.wait(BOUND_S)
    assert stop.reason == "job timeout (0.05s)"


def test_an_abort_request_stops_the_job() -> None:
    asked = threading.Event()
    with guard.bounded(3600, asked.is_set, poll_s=0.01) as stop:
        asked.set()
        assert stop.requested.wait(BOUND_S)
    assert "abort requested" in stop.reason


def test_a_stopped_job_starts_no_more_targets() -> None:
    with guard.bounded(3600, lambda: True, poll_s=0.01) as stop:
        assert stop.requested.wait(BOUND_S)
        results = fanout.run(lambda item: item, [1, 2, 3], ["a", "b", "c"], fanout.Options(stop=stop))
    assert [type(r.error).__name__ for r in results] == ["NotStarted"] * 3


def test_a_job_that_ends_in_time_is_never_stopped() -> None:
    with guard.bounded(3600, lambda: False, poll_s=0.01) as stop:
        pass
    assert not stop
