"""What every fan-out command shares: its options, progress on a terminal, a result line per target,
JSON for scripts, and the exit code (0 only when every target succeeded)."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rackctl import fanout, interrupts, targets
from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, EXIT_OK, actor, confirm, state, transaction
from rackctl.errors import NotFound, NotStarted, Unknown
from rackctl.services.bmc import run_on_nodes, split_nodes

WorkersOption = Annotated[int | None, typer.Option("--workers", min=1, help="Targets at once (default 64).")]
TimeoutOption = Annotated[float | None, typer.Option("--timeout", min=0.1, help="Seconds per target and attempt.")]
RetriesOption = Annotated[int | None, typer.Option("--retries", min=0, help="Extra attempts after a transient error.")]
QueueOption = Annotated[bool, typer.Option("--queue", help="Put one job per rack on the sites' queues and return.")]
WaitForOption = Annotated[
    float, typer.Option("--wait-for", min=1, help="With --wait/--follow: seconds to follow the jobs before giving up.")
]
TargetsArg = Annotated[
    str,
    typer.Argument(autocompletion=complete.targets, help="Node set: gpu-r12-u[03,11], @rack:r12, @role:gpu-node ..."),
]
PROGRESS_FROM = 8  # targets; fewer finish too fast for a bar to help


def fanout_options(
    workers: int | None, timeout: float | None, retries: int | None, extra_time: float = 0.0
) -> fanout.Options:
    settings = state().settings
    return fanout.Options(
        workers=workers or settings.workers,
        timeout=(timeout or settings.timeout) + extra_time,
        retries=settings.retries if retries is None else retries,
        stop=state().stop,
    )


@contextmanager
def interruptible() -> Iterator[fanout.Stop]:
    """While devices are being changed, SIGINT/SIGTERM stop the run cleanly (see rackctl/interrupts.py)."""
    with interrupts.handled(state().stop, lambda text: output.err().print(text, markup=False, highlight=False)):
        yield state().stop


@contextmanager
def progress(options: fanout.Options, total_hint: int, label: str) -> Iterator[None]:
    """A progress bar on stderr while the fan-out runs, when a person is watching."""
    if not sys.stderr.isatty() or total_hint < PROGRESS_FROM:
        yield
        return
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=output.err())
    task = bar.add_task(label, total=total_hint)
    options.progress = lambda _result: bar.advance(task)
    with bar:
        yield
    options.progress = None


def plain(value: Any) -> Any:
    """A JSON-friendly copy of a result value (dataclasses, enums, lists of them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def result_dict(result: fanout.Result[Any]) -> dict[str, Any]:
    return {
        "target": result.target,
        "ok": result.ok,
        "value": plain(result.value) if result.ok else None,
        "error": None if result.ok else result.message,
        "error_type": None if result.ok else type(result.error).__name__,
        "attempts": result.attempts,
        "seconds": round(result.seconds, 3),
    }


def finish(results: Sequence[fanout.Result[Any]]) -> None:
    """Exit 0 when every target succeeded, else 1; 128 + N when signal N interrupted the run."""
    interrupted = interrupts.exit_code(state().stop)
    if interrupted is not None:
        idle = sum(isinstance(r.error, NotStarted) for r in results)
        unknown = sum(isinstance(r.error, Unknown) for r in results)
        output.error(
            f"interrupted by {state().stop.reason}: {idle} target(s) not started, {unknown} in an unknown state",
            "every result is in the operation log: rackctl log",
        )
        raise typer.Exit(interrupted)
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_FAILED)


def report(
    title: str,
    results: Sequence[fanout.Result[Any]],
    as_json: bool,
    describe: Callable[[Any], str] = str,
) -> None:
    """Print one line per target (or JSON) and exit 1 unless every target succeeded."""
    if as_json:
        output.emit_json([result_dict(r) for r in results])
    else:
        rows = [(r.target, output.status(r.ok), describe(r.value) if r.ok else r.message) for r in results]
        output.table(title, ["target", "result", "detail"], rows)
        failed = sum(not r.ok for r in results)
        output.line(f"{len(results) - failed} of {len(results)} succeeded" + (f", {failed} failed" if failed else ""))
    finish(results)


def resolve_names(expression: str) -> list[str]:
    with transaction() as session:
        return targets.resolve(session, expression)


def bmc_nodes(expression: str) -> list[str]:
    """The nodes of `expression` a BMC command acts on; says which devices it leaves out (no BMC)."""
    with transaction() as session:
        names, others = split_nodes(session, targets.resolve(session, expression))
    if others:
        output.note(f"left out {len(others)} device(s) without a BMC: {targets.fold(others)}")
    if not names:
        raise NotFound(f"'{expression}' holds no device with a BMC ({len(others)} switches, PDUs and the like)")
    return names


def guard(action: str, expression: str, dry_run: bool, yes: bool, always: bool = False) -> list[str]:
    """The nodes with a BMC; --dry-run lists them and stops; asks before acting on more of them than
    `confirm_over` (or `always`). Counts only what will be acted on."""
    names = bmc_nodes(expression)
    if dry_run:
        output.line(f"would {action} {len(names)} node(s): {targets.fold(names)}")
        raise typer.Exit(0)
    if always or len(names) > state().settings.confirm_over:
        confirm(f"{action} {len(names)} node(s) ({targets.fold(names)})?", yes)
    return names


def run_nodes(
    command: str,
    target: str,
    operation: Callable[[Any], Any],
    options: fanout.Options,
    names: Sequence[str] | None = None,
    doing: str = "",
) -> list[fanout.Result[Any]]:
    """Run a BMC operation over the nodes with a BMC (pass `names` when the caller already resolved them);
    with `doing`, the nodes are leased and SIGINT/SIGTERM stop the run cleanly."""
    app = state()
    names = list(names) if names is not None else bmc_nodes(target)
    with interruptible(), progress(options, len(names), command):
        outcome = run_on_nodes(app.database(), actor(), names, command, operation, options, label=target, doing=doing)
    return outcome.results
