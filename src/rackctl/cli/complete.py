"""Shell completion callbacks (typer `autocompletion=`): they only open the inventory and print words.

Completion runs before the root callback, so the database is opened here from `--db` (or the settings),
never created, and with a short lock wait. A completion that cannot answer offers nothing: a shell's
Tab key must never print an error or a traceback into the command line being typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rackctl.cli.common import AppState

Words = Callable[[Any, str], list[str]]


def _inventory_words(lookup_name: str) -> Callable[[typer.Context, list[str], str], list[str]]:
    def complete(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
        from rackctl.inventory import completion

        lookup: Words = getattr(completion, lookup_name)
        app_state = AppState(db_url=ctx.find_root().params.get("db"), wait=0.5)
        try:
            with app_state.database().transaction() as session:
                return lookup(session, incomplete)
        except Exception:  # NOTE(completion): any failure offers nothing rather than break the shell's line
            return []
        finally:
            app_state.close()

    return complete


targets = _inventory_words("target_words")
devices = _inventory_words("device_words")
profiles = _inventory_words("profile_words")
device_types = _inventory_words("device_type_words")
racks = _inventory_words("rack_words")


def templates(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
    from rackctl.inventory.templates.loader import list_templates

    try:
        found = list_templates(AppState().settings.template_dirs)
    except Exception:  # NOTE(completion): as above
        return []
    return [p.stem for p in found if p.stem.startswith(incomplete)]
