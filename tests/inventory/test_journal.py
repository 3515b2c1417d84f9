"""The operation log as evidence: the intent is written before anything is touched, results as targets
finish, an end last - rows only ever added - and a run cut off shows what is unknown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from rackctl import fanout
from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation, OperationEnd, OperationResult
from rackctl.services import journal, oplog

NODES = ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19"]


def _count(db: Database, model: Any) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model)) or 0


def _until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_intent_is_logged_before_the_first_target_is_touched(db: Database) -> None:
    seen: list[tuple[int, int]] = []

    def work(name: str) -> str:
        seen.append((_count(db, Operation), _count(db, OperationResult)))
        return "powered off"

    with journal.opened(db, "tester", "power off @rack:r12", NODES) as log:
        results = fanout.run(work, NODES, NODES, log.observing(fanout.Options(workers=1)))
        log.finish(results)
    assert seen[0] == (1, 0)
    with db.transaction() as session:
        op = session.scalars(select(Operation)).one()
        assert op.targets == NODES and op.end is not None and op.end.ok and op.end.summary == "3/3 ok"
        assert [r.target for r in op.results] == NODES


def test_results_are_written_as_targets_finish(db: Database) -> None:
    release = threading.Event()

    def work(name: str) -> str:
        if name != NODES[0]:
            release.wait(30)
        return "done"

    with journal.opened(db, "tester", "power off", NODES) as log:
        runner = threading.Thread(
            target=lambda: log.finish(fanout.run(work, NODES, NODES, log.observing(fanout.Options(workers=3))))
        )
        runner.start()
        _until(lambda: _count(db, OperationResult) == 1)  # the first node's result, while the others still run
        assert _count(db, OperationEnd) == 0
        release.set()
        runner.join()
    assert _count(db, OperationResult) == 3 and _count(db, OperationEnd) == 1


def test_targets_without_a_result_are_recorded_as_unknown(db: Database) -> None:
    with journal.opened(db, "tester", "power cycle", NODES) as log:
        log.finish([fanout.Result(NODES[0], "power cycled")], interrupted="SIGTERM")
    with db.transaction() as session:
        op = session.scalars(select(Operation)).one()
        shown = oplog.shown(op)
        assert (shown.ok, shown.interrupted, shown.unrecorded) == (False, "SIGTERM", [])
        assert shown.summary == "1/3 ok, 2 unknown"
        assert [(r.target, r.detail.get("outcome")) for r in op.results] == [
            (NODES[0], None),
            (NODES[1], "unknown"),
            (NODES[2], "unknown"),
        ]


def test_a_crash_inside_the_run_still_ends_the_operation(db: Database) -> None:
    with pytest.raises(RuntimeError), journal.opened(db, "tester", "power off", NODES):
        raise RuntimeError("the process is going down")
    with db.transaction() as session:
        op = session.scalars(select(Operation)).one()
        assert op.end is not None and not op.end.ok
        assert op.end.summary.startswith("ended by an error before every result was in: the process is going down")
        assert all(r.detail["outcome"] == "unknown" for r in op.results)


def test_an_operation_without_an_end_shows_as_unfinished(db: Database) -> None:
    with db.transaction() as session:  # a process killed after its intent and one result
        operation_id = oplog.begin(session, "tester", "power off", NODES)
        oplog.append(session, operation_id, [oplog.TargetResult(NODES[0], True, "powered off")])
    with db.transaction() as session:
        shown = oplog.shown(session.get(Operation, operation_id))
    assert shown.ok is None and shown.unrecorded == NODES[1:]
    assert shown.summary == "UNFINISHED: 1 result(s) recorded, 2 target(s) in an unknown state"


def test_the_end_of_an_operation_cannot_be_rewritten(db: Database) -> None:
    with journal.opened(db, "tester", "power off", NODES[:1]) as log:
        log.finish([fanout.Result(NODES[0], error=RuntimeError("failed"))])
    for statement in ("UPDATE operation_ends SET ok = true", "DELETE FROM operation_ends"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
