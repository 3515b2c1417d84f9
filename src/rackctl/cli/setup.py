"""`rackctl init` and `rackctl info`: create the inventory and say where it is."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from rackctl import __version__
from rackctl.cli import output
from rackctl.cli.common import JsonOption, sqlite_path, state
from rackctl.errors import InventoryError
from rackctl.inventory import devicetypes, revisions
from rackctl.inventory.db import Database, redact_url, require_schema
from rackctl.inventory.models import Device, DeviceType, Rack, Site
from rackctl.inventory.revisions import schema_status
from rackctl.paths import data_dir


def init(
    skip_devicetypes: bool = typer.Option(False, "--no-devicetypes", help="Do not import the shipped device types."),
) -> None:
    """Create (or upgrade) the inventory database and import the shipped device types."""
    from rackctl.inventory.schema import current_revision, upgrade  # Alembic: only for the commands that need it

    db = state().database(require=False, create=True)
    _refuse_newer(db)
    upgrade(db)
    output.line(f"inventory ready at {redact_url(db.url)} (schema {current_revision(db)})")
    if skip_devicetypes:
        return
    with db.transaction() as session:
        reports = devicetypes.import_files(session, [data_dir("devicetypes")])
    output.line(f"device types: {len(reports)} shipped types imported")


def _refuse_newer(db: Database) -> None:
    if schema_status(db).state == "newer":
        require_schema(db)  # says which versions, and why this rackctl must not touch it


def info(as_json: JsonOption = False) -> None:
    """Print where the inventory lives, its schema version and what it holds (creates nothing)."""
    app = state()
    path = sqlite_path(app.url)
    db = None if path is not None and not path.exists() else app.database(require=False)
    status = schema_status(db) if db else None
    data: dict[str, object] = {
        "version": __version__,
        "database": redact_url(app.url),
        "schema": status.current if status else None,
        "schema_head": revisions.head(),
        "schema_state": status.state if status else "empty",
        "config": app.settings.source,
        "state_dir": str(app.settings.resolved_state_dir),
    }
    if db and status and status.state == "current":
        with db.transaction() as session:
            for label, model in (
                ("sites", Site),
                ("racks", Rack),
                ("devices", Device),
                ("device_types", DeviceType),
            ):
                data[label] = session.scalar(select(func.count()).select_from(model))
    if as_json:
        output.emit_json(data)
        return
    output.table(None, ["", ""], [(k, v) for k, v in data.items()])
    schema_state = data["schema_state"]
    if schema_state == "empty":
        output.note("no inventory yet: run 'rackctl init'")
    elif schema_state == "behind":
        output.note(f"schema {data['schema']} is behind {data['schema_head']}: run 'rackctl db upgrade'")
    elif schema_state == "newer":
        output.note(
            f"schema {data['schema']} is newer than this rackctl knows ({data['schema_head']}): "
            "use the rackctl that upgraded it"
        )


db_app = typer.Typer(help="The inventory database itself: schema upgrades, operator grants.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the inventory's schema up to this rackctl's (back the database up first)."""
    from rackctl.inventory.schema import upgrade

    db = state().database(require=False)
    status = schema_status(db)
    if status.state == "empty":
        raise InventoryError(f"no inventory at {redact_url(db.url)}", hint="run 'rackctl init' first")
    _refuse_newer(db)
    if status.state == "current":
        output.line(f"schema {status.current} is current: nothing to do")
    else:
        upgrade(db)
        output.line(f"schema upgraded from {status.current} to {schema_status(db).current}")
    _queue_schema(db.url)


def _queue_schema(url: str) -> None:
    """On PostgreSQL with the workers extra installed: the job queue's own tables (procrastinate's schema)."""
    from importlib.util import find_spec

    if not url.startswith("postgresql") or find_spec("procrastinate") is None:
        return
    from rackctl.jobs.queue import ensure_schema

    if ensure_schema(url):
        output.line("job queue: procrastinate's schema applied")


@db_app.command("grants")
def db_grants(
    role: str = typer.Option(..., "--role", help="The PostgreSQL role operators log in as."),
) -> None:
    """Print the SQL that lets ROLE work with the inventory but never rewrite its logs (run it as the owner)."""
    from rackctl.inventory.grants import operator_grants

    for statement in operator_grants(role):
        output.raw(statement + "\n")
