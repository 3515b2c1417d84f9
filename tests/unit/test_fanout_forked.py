"""Fan-out over forked worker processes: the same results as in one process, and a dead worker reported."""

from __future__ import annotations

import os

from rackctl import fanout
from rackctl.errors import ConnectError
from rackctl.fanout_forked import can_fork, run_forked


def _double(item: int) -> int:
    if item == 7:
        raise ConnectError("no answer from node 7")
    return item * 2


def test_results_come_back_in_order_with_errors_intact() -> None:
    items = list(range(20))
    names = [f"n{i}" for i in items]
    results = run_forked(_double, items, names, fanout.Options(workers=4, timeout=5, retries=0), processes=3)
    assert [r.target for r in results] == names
    assert [r.value for r in results if r.ok] == [i * 2 for i in items if i != 7]
    failed = [r for r in results if not r.ok]
    assert [r.target for r in failed] == ["n7"]
    assert isinstance(failed[0].error, ConnectError) and "node 7" in failed[0].message


def test_a_worker_that_dies_leaves_its_targets_with_an_error() -> None:
    def crash_on_odd(item: int) -> int:
        if item % 2:
            os._exit(3)  # the whole worker process goes, mid-run
        return item

    results = run_forked(
        crash_on_odd, [0, 1, 2, 3], ["a", "b", "c", "d"], fanout.Options(workers=1, timeout=5), processes=2
    )
    by_target = {r.target: r for r in results}
    assert by_target["b"].ok is False and "worker process ended" in by_target["b"].message
    assert by_target["d"].ok is False


def test_progress_sees_every_result_in_the_parent() -> None:
    seen: list[str] = []
    options = fanout.Options(workers=2, timeout=5, progress=lambda r: seen.append(r.target))
    run_forked(lambda x: x, [1, 2, 3, 4, 5], ["a", "b", "c", "d", "e"], options, processes=2)
    assert sorted(seen) == ["a", "b", "c", "d", "e"]


def test_can_fork_only_before_a_library_starts_its_thread() -> None:
    assert can_fork("a_module_nobody_imported", "iothread")
    assert not can_fork("os", "sep")  # a module whose attribute is set stands for a started thread
