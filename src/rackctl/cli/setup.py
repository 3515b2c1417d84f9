"""`rackctl init` and `rackctl info`: create the inventory and say where it is."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from rackctl import __version__
from rackctl.cli import output
from rackctl.cli.common import JsonOption, state
from rackctl.inventory import devicetypes
from rackctl.inventory.db import redact_url
from rackctl.inventory.models import Device, DeviceType, Rack, Site
from rackctl.paths import data_dir


def init(
    skip_devicetypes: bool = typer.Option(False, "--no-devicetypes", help="Do not import the shipped device types."),
) -> None:
    """Create (or upgrade) the inventory database and import the shipped device types."""
    from rackctl.inventory.schema import current_revision, upgrade  # Alembic: only for the commands that need it

    db = state().database(require=False)
    upgrade(db)
    output.line(f"inventory ready at {redact_url(db.url)} (schema {current_revision(db)})")
    if skip_devicetypes:
        return
    with db.transaction() as session:
        reports = devicetypes.import_files(session, [data_dir("devicetypes")])
    output.line(f"device types: {len(reports)} shipped types imported")


def info(as_json: JsonOption = False) -> None:
    """Print where the inventory lives, its schema version and what it holds."""
    from rackctl.inventory.schema import current_revision, head_revision

    app = state()
    db = app.database(require=False)
    current, head = current_revision(db), head_revision(db)
    data = {
        "version": __version__,
        "database": redact_url(db.url),
        "schema": current,
        "schema_head": head,
        "config": app.settings.source,
        "state_dir": str(app.settings.resolved_state_dir),
    }
    if current is not None:
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
    if current is None:
        output.note("no inventory yet: run 'rackctl init'")
    elif current != head:
        output.note(f"schema {current} is behind {head}: run 'rackctl init' to upgrade")
