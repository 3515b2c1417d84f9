"""An operation in the log from before it acts until it ends, so a crash or Ctrl-C leaves evidence.

    with journal.opened(db, actor, "power off @rack:r12", ["gpu-r12-u03", ...]) as log:
        results = fanout.run(work, items, names, log.observing(options))
        log.finish(results, interrupted=stop.reason)

`opened` writes the intent (who, the command, every target) before it returns, so it is in the log
before any device is touched. Each result is queued as its target finishes and written by a background
flusher every FLUSH_S in one short transaction (rows are only ever added), so a killed process loses at
most the last FLUSH_S of results - and the reader shows those targets as unknown. `finish` writes what is
left: targets of the intent with no result get an "unknown" result, then the end. Leaving the block with
an exception also finishes the operation, marked failed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from rackctl import fanout
from rackctl.errors import Unknown
from rackctl.inventory.db import Database
from rackctl.services import oplog
from rackctl.services.oplog import TargetResult

FLUSH_S = 0.5


class Journal:
    """One operation being written: its intent is already in the log."""

    def __init__(self, db: Database, operation_id: int, targets: Sequence[str]) -> None:
        self.db, self.operation_id, self.targets = db, operation_id, list(targets)
        self._pending: list[TargetResult] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.finished = False

    def add(self, result: fanout.Result[Any]) -> None:
        """Queue a target's result (thread-safe); a target's first result is the one kept."""
        self.add_recorded(oplog.target_result(result))

    def add_recorded(self, entry: TargetResult) -> None:
        with self._lock:
            if entry.target in self._seen or self.finished:
                return
            self._seen.add(entry.target)
            self._pending.append(entry)

    def observing(self, options: fanout.Options) -> fanout.Options:
        """The options with a progress callback that also queues each result for the log."""
        shown = options.progress

        def progress(result: fanout.Result[Any]) -> None:
            self.add(result)
            if shown is not None:
                shown(result)

        return replace(options, progress=progress)

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                with self.db.transaction() as session:
                    oplog.append(session, self.operation_id, batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch  # kept for the next flush
                raise

    def finish(self, results: Sequence[fanout.Result[Any]], interrupted: str = "", summary: str = "") -> None:
        """Record every result not yet written, "unknown" for targets without one, then the end."""
        self.finish_recorded([oplog.target_result(r) for r in results], interrupted, summary)

    def finish_recorded(self, entries: Sequence[TargetResult], interrupted: str = "", summary: str = "") -> None:
        """`finish` with results already in the log's form (a run that is no fan-out, such as Ansible's)."""
        for entry in entries:
            self.add_recorded(entry)
        missing = [t for t in self.targets if t not in self._seen]
        for target in missing:
            self.add(fanout.Result(target, error=Unknown("unknown: no result was recorded for this target")))
        self.flush()
        with self._lock:
            self.finished = True
        recorded = [*entries, *(TargetResult(t, False, "", {"outcome": oplog.UNKNOWN}) for t in missing)]
        ok = bool(recorded) and all(r.ok for r in recorded) and not interrupted
        with self.db.transaction() as session:
            oplog.end(session, self.operation_id, ok, summary or oplog.summary_of(recorded), interrupted)


def _flusher(journal: Journal, stop: threading.Event) -> None:
    while not stop.wait(FLUSH_S):
        try:
            journal.flush()
        except Exception:  # a busy database now: retried at the next flush, and at finish
            continue


@contextmanager
def opened(db: Database, actor: str, command: str, targets: Sequence[str]) -> Iterator[Journal]:
    """Write the intent now; stream results while the block runs; always write an end."""
    with db.transaction() as session:
        operation_id = oplog.begin(session, actor, command, targets)
    journal = Journal(db, operation_id, targets)
    stop = threading.Event()
    thread = threading.Thread(target=_flusher, args=(journal, stop), daemon=True, name="rackctl-journal")
    thread.start()
    try:
        yield journal
    except BaseException as exc:
        stop.set()
        if not journal.finished:
            journal.finish([], summary=f"ended by an error before every result was in: {exc}"[:512])
        raise
    finally:
        stop.set()
        thread.join()
    if not journal.finished:
        journal.finish([])
