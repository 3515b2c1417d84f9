"""A scratch inventory holding one rack built from a template, for rehearsals, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.paths import data_dir


def make_inventory(path: Path, template: str = "h100-4node-air", rack: str = "r12") -> Database:
    """A SQLite inventory at `path` with site fra1 and `rack` built from `template`."""
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes")])
        session.add(Site(name="fra1"))
        session.flush()
        create_racks(session, load_template(template), rack, "fra1", "lab")
    return db
