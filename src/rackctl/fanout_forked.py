"""Spread one fan-out over forked worker processes, one per core, for protocol libraries that do their work
in a single thread per process (pyghmi runs every IPMI session through one I/O thread and a global lock).

Each child runs `fanout.run` on its share of the targets and streams every result back through a pipe as
it finishes, so progress and per-target deadlines work as in one process. A child that dies leaves its
missing targets with an error result. Fork copies the running program, not its threads: callers fork only
while the library has not started its own threads in this process (see `can_fork`).
"""

from __future__ import annotations

import os
import pickle
import select
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import IO, Any, TypeVar

from rackctl.errors import CommandError
from rackctl.fanout import Options, Result, run

T = TypeVar("T")
R = TypeVar("R")


def _portable(result: Result[Any]) -> Result[Any]:
    """The result as something pickle can carry across the pipe (exotic exceptions become text)."""
    try:
        pickle.dumps(result)
        return result
    except Exception:
        return replace(result, value=None, error=CommandError(result.message or "unreportable result"))


def _child(fn: Callable[[T], R], items: Sequence[T], names: list[str], options: Options, out: IO[bytes]) -> None:
    def emit(result: Result[Any]) -> None:
        pickle.dump(_portable(result), out)
        out.flush()

    run(fn, items, names, replace(options, progress=emit))


def _spawn(fn: Callable[[T], R], items: Sequence[T], names: list[str], options: Options) -> tuple[int, IO[bytes]]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, report, and leave without running the parent's cleanup
        os.close(read_end)
        try:
            with os.fdopen(write_end, "wb") as out:
                _child(fn, items, names, options, out)
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb")


def run_forked(
    fn: Callable[[T], R], items: Sequence[T], names: Sequence[str], options: Options, processes: int
) -> list[Result[R]]:
    """Like `fanout.run`, over `processes` children sharing `options.workers` between them."""
    share = replace(options, workers=max(1, options.workers // processes), progress=None)
    children: dict[IO[bytes], int] = {}
    for first in range(processes):
        picked = list(range(first, len(items), processes))
        if picked:
            pid, pipe = _spawn(fn, [items[i] for i in picked], [names[i] for i in picked], share)
            children[pipe] = pid
    done: dict[str, Result[R]] = {}
    while children:
        ready, _, _ = select.select(list(children), [], [])
        for pipe in ready:
            try:
                result = pickle.load(pipe)
            except EOFError:
                pipe.close()
                os.waitpid(children.pop(pipe), 0)
                continue
            done[result.target] = result
            if options.progress is not None:
                options.progress(result)
    lost = CommandError("its worker process ended before reporting")
    return [done.get(name, Result(name, error=lost, attempts=0)) for name in names]


def can_fork(module: str, thread_attribute: str) -> bool:
    """Whether `module` (if loaded) has not started its worker thread yet, so a fork copies it whole."""
    import sys

    loaded = sys.modules.get(module)
    return loaded is None or getattr(loaded, thread_attribute, None) is None
