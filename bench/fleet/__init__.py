"""A simulated fleet of N IPMI (or Redfish) BMCs in a scratch inventory, for benchmarks and scale tests."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import parse_template
from rackctl.paths import data_dir

HERE = Path(__file__).parent
PER_RACK = 40


@dataclass
class Fleet:
    db: Database
    folder: Path
    racks: list[str]
    nodes: list[str]


def build(nodes: int, protocol: str = "ipmi", folder: Path | None = None, url: str = "") -> Fleet:
    """An inventory holding `nodes` 1U servers, forty to a rack, whose BMCs speak `protocol` (in a scratch
    SQLite file, or in the empty database at `url`)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="rackctl-fleet-"))
    db = Database(url or f"sqlite:///{folder / 'inventory.db'}")
    upgrade(db)
    text = (HERE / "fleet-rack-40.yaml").read_text().replace("protocol: ipmi", f"protocol: {protocol}")
    template = parse_template(text, str(HERE / "fleet-rack-40.yaml"))
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes"), HERE / "server-1u.yaml"])
        session.add(Site(name="fleet"))
    racks = [f"f{number:03d}" for number in range(math.ceil(nodes / PER_RACK))]
    for rack in racks:
        with db.transaction() as session:
            create_racks(session, template, rack, "fleet", "bench")
    with db.transaction() as session:
        names = list(session.scalars(select(Device.name).order_by(Device.name)))[:nodes]
    return Fleet(db, folder, racks, names)
