"""A command group that imports a command's module only when that command runs.

`rackctl --help` and shell completion of command names read the table in `rackctl.cli.app` and import
nothing else: every command pays Python's start-up, not the import of SQLAlchemy, pyghmi, jinja2 ... of
all the others. A command's module is imported when the command is resolved to run it, to show its own
help, or to complete its arguments. A module that needs an optional extra which is not installed
becomes one line naming the extra (`rackctl.extras`), not a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from rackctl.errors import RackctlError

_LISTING = "rackctl.listing"  # ctx.meta flag: only names and summaries are needed


class Lazy(NamedTuple):
    """Where a command lives ("package.module:attribute": a typer.Typer group or a command function)
    and the one line `rackctl --help` shows for it (a test keeps it equal to the command's own)."""

    target: str
    summary: str


def load(name: str, entry: Lazy) -> Any:
    """Import the command's module and build its click command, named `name`."""
    from rackctl.extras import missing_extra

    module_name, _, attribute = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, f"rackctl {name}", name) or exc from None
    return _click_command(name, getattr(module, attribute))


def _click_command(name: str, obj: Any) -> Any:
    # A holder group with a callback always builds a group, so a single command keeps its name and a
    # Typer sub-app gets no completion options of its own, exactly as add_typer()/command() would do.
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)  # plain help, as the root's
    holder.callback()(_noop)
    if isinstance(obj, typer.Typer):
        holder.add_typer(obj, name=name)
    else:
        holder.command(name)(obj)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


def _noop() -> None:
    """(holder)"""


class _Summary(TyperCommand):
    """What help and completion show for a command whose module is not imported."""

    def __init__(self, name: str, entry: Lazy) -> None:
        super().__init__(name=name, help=entry.summary, short_help=entry.summary)


class LazyGroup(TyperGroup):
    """The root group: commands from a table of name -> Lazy, imported on use.

    Subclasses set `table`. Commands registered the ordinary typer way (`app.command()`) still work
    and come first.
    """

    table: ClassVar[Mapping[str, Lazy]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in self.table if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        eager = super().get_command(ctx, cmd_name)
        if eager is not None or cmd_name not in self.table:
            return eager
        if ctx.meta.get(_LISTING):
            return _Summary(cmd_name, self.table[cmd_name])
        return self._loaded(cmd_name)

    def _loaded(self, cmd_name: str) -> Any:
        cache = self.__dict__.setdefault("_loaded_commands", {})
        if cmd_name not in cache:
            cache[cmd_name] = load(cmd_name, self.table[cmd_name])
        return cache[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        ctx.meta[_LISTING] = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            ctx.meta.pop(_LISTING, None)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except RackctlError:
            if not ctx.resilient_parsing:
                raise  # invoke() prints it as one line
            return None, None, args[1:]  # completing: a command that cannot load completes nothing
