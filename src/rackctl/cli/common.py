"""What every command shares: settings, the database, the actor, targets and error handling."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from rackctl.actor import COMMAND
from rackctl.actor import current as current_actor
from rackctl.config import Settings, load_settings
from rackctl.errors import ConfigError, InventoryError, RackctlError
from rackctl.fanout import Stop

if TYPE_CHECKING:  # SQLAlchemy is imported when a command opens the inventory, not for --help
    from sqlalchemy.orm import Session

    from rackctl.inventory.db import Database

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print what would be done and stop.")]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class AppState:
    """Per-invocation state, kept on the click context."""

    db_url: str | None = None
    debug: bool = False
    stop: Stop = field(default_factory=Stop, repr=False)  # set by SIGINT/SIGTERM during work on devices
    wait: float = 30.0  # seconds to wait for another writer's lock on the inventory
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def url(self) -> str:
        return self.db_url or self.settings.resolved_db_url

    def database(self, require: bool = True, create: bool = False) -> Database:
        """The inventory; `create` lets a SQLite file (and its folder) come into being (only `init` does)."""
        from rackctl.inventory.db import require_schema

        if self._db is None:
            self._db = _open(self.url, create, self.wait)
        if require:
            require_schema(self._db)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def _open(url: str, create: bool, wait: float) -> Database:
    """The inventory at `url`, reachable; a bad URL, file or server is one line, not a traceback."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from rackctl.cli import output
    from rackctl.inventory.db import Database, check_url

    check_url(url)
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise InventoryError(
            f"no inventory at {_shown(url)}", hint="run 'rackctl init' first, or check --db / RACKCTL_DB_URL"
        )
    try:
        if path is not None and create:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(url, wait=wait, on_wait=output.note)
        with db.engine.connect():
            pass
    except (ArgumentError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"cannot open the inventory at {_shown(url)}: {reason}") from None
    return db


def _shown(url: str) -> str:
    from sqlalchemy.exc import ArgumentError

    from rackctl.inventory.db import redact_url

    try:
        return redact_url(url)
    except ArgumentError:
        # Unparseable: after its scheme it might hold a password anywhere.
        return url.split(":", 1)[0] + ":…" if ":" in url else url


def sqlite_path(url: str) -> Path | None:
    """The file of a file-backed SQLite URL; None for other backends and in-memory databases."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


_STATE: ContextVar[AppState | None] = ContextVar("rackctl_state", default=None)


def begin(app_state: AppState) -> None:
    """Make `app_state` the state of the command now running (set by the root callback)."""
    _STATE.set(app_state)


def state() -> AppState:
    current = _STATE.get()
    if current is None:
        current = AppState()
        _STATE.set(current)
    return current


@contextmanager
def transaction() -> Iterator[Session]:
    """A session on the inventory, committed when the command's work succeeds."""
    with state().database().transaction() as session:
        yield session


def actor() -> str:
    """Who is acting, for the operation log, the change log and lifecycle history."""
    return current_actor()


def confirm(question: str, yes: bool) -> None:
    """Ask before something destructive; `--yes` answers for scripts. Refuses when nobody can answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise RackctlError(f"{question} - refusing without confirmation", hint="pass --yes to confirm")
    if not typer.confirm(question, default=False):
        raise typer.Exit(EXIT_FAILED)


class RackctlGroup(TyperGroup):
    """Turns rackctl's own errors into one line and exit code 2 (tracebacks only with --debug); so is a
    package of a missing optional extra that a command imports while it runs."""

    def invoke(self, ctx: Any) -> Any:
        COMMAND.set(command_path(ctx))
        try:
            return super().invoke(ctx)
        except (RackctlError, ModuleNotFoundError) as exc:
            error = exc if isinstance(exc, RackctlError) else _missing_extra(ctx, exc)
            if error is None:
                raise
            if state().debug:
                traceback.print_exc()
            from rackctl.cli import output  # rich: only when there is something to print

            output.error(str(error), error.hint)
            raise typer.Exit(EXIT_USAGE) from None
        finally:
            state().close()
            _STATE.set(None)
            COMMAND.set("")


def _missing_extra(ctx: Any, exc: ModuleNotFoundError) -> RackctlError | None:
    from rackctl.extras import missing_extra

    command = ctx.invoked_subcommand or ""
    return missing_extra(exc, f"{ctx.command_path} {command}".strip(), command)


def command_path(ctx: Any) -> str:
    """`rackctl device set`: the command words of this invocation (no arguments), for the change log."""
    tokens = [*(getattr(ctx, "_protected_args", None) or []), *ctx.args]
    words, command = ["rackctl"], ctx.command
    for token in tokens:
        sub = command.get_command(ctx, token) if hasattr(command, "get_command") else None
        if sub is None:
            break
        words.append(token)
        command = sub
    return " ".join(words)
