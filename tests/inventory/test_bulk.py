"""Rows written in bulk (inventory/bulk.py, how `rack create` writes a rack's components): the ids they take
leave the database's own numbering intact on SQLite and PostgreSQL, the name rule refuses a hostile value
in any row and nothing is written, and the change log names every row as it names the ORM's writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rackctl.errors import ValidationError
from rackctl.inventory import devicetypes
from rackctl.inventory.bulk import Part, write
from rackctl.inventory.db import Database
from rackctl.inventory.models import Cable, Change, Device, Interface, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.paths import data_dir
from rackctl.types import InterfaceKind
from tests.inventory.conftest import Build, shipped_template


def _two_ports(db: Database, names: tuple[str, str] = ("p1", "p2")) -> None:
    """Two interfaces bonded, and a cable between them, on the first device: all Parts, written in bulk."""
    with db.transaction() as session:
        device = session.scalars(select(Device).order_by(Device.id)).first()
        assert device is not None
        a = Part(Interface, {"device_id": device, "name": names[0], "kind": InterfaceKind.ETHERNET})
        bond = Part(Interface, {"device_id": device, "name": "bondx", "kind": InterfaceKind.BOND})
        b = Part(Interface, {"device_id": device, "name": names[1], "kind": InterfaceKind.ETHERNET, "bond_id": bond})
        a["bond_id"] = bond  # a member before its bond: written after it all the same
        write(session, [a, b, Part(Cable, {"a_id": a, "b_id": b, "kind": "twinax"}), bond])


def _ids_continue(db: Database) -> None:
    _two_ports(db)
    with db.transaction() as session:
        device = session.scalars(select(Device).order_by(Device.id)).first()
        assert device is not None
        top = session.scalar(select(func.max(Interface.id)))
        later = Interface(device=device, name="p3", kind=InterfaceKind.ETHERNET)
        session.add(later)
        session.flush()
        assert later.id > top  # the database's own numbering goes on after the bulk rows
        bond = session.scalars(select(Interface).where(Interface.name == "bondx")).one()
        assert sorted(m.name for m in bond.members) == ["p1", "p2"]
        cable = session.scalars(select(Cable).where(Cable.kind == "twinax")).one()
        assert (cable.a.name, cable.b.name) == ("p1", "p2")


def test_bulk_rows_keep_the_numbering_and_references(db: Database, build: Build) -> None:
    build("r12")
    _ids_continue(db)


def test_bulk_rows_keep_the_postgresql_sequences(postgres_db_url: str) -> None:
    db = Database(postgres_db_url)
    upgrade(db)
    try:
        with db.transaction() as session:
            devicetypes.import_files(session, [data_dir("devicetypes")])
            session.add(Site(name="fra1"))
        with db.transaction() as session:  # a rack from the template: its components are written in bulk
            create_racks(session, shipped_template("h100-4node-air"), "r12", "fra1", "tester")
        _ids_continue(db)
    finally:
        db.dispose()


@pytest.mark.parametrize("hostile", ["p1; reboot", "$(id)", "p1\nx", "\uff501", "../p1", "p" * 65])
def test_a_hostile_value_in_any_row_writes_nothing(db: Database, build: Build, hostile: str) -> None:
    build("r12")
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Interface))
    with pytest.raises(ValidationError, match="interface name"):
        _two_ports(db, ("p1", hostile))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Interface)) == before
        assert session.scalars(select(Change).where(Change.object_name.like("%bondx%"))).first() is None


def test_the_change_log_names_every_bulk_row(db: Database, build: Build) -> None:
    build("r12")
    _two_ports(db)
    with db.transaction() as session:
        device = session.scalars(select(Device).order_by(Device.id)).first()
        assert device is not None
        changes = session.scalars(select(Change).where(Change.scope == device.name, Change.kind != "device"))
        named = {(c.kind, c.object_name) for c in changes if "p1" in c.object_name or "bondx" in c.object_name}
    assert named == {
        ("interface", f"{device.name}:p1"),
        ("interface", f"{device.name}:bondx"),
        ("cable", f"{device.name}:p1 - {device.name}:p2"),
    }
