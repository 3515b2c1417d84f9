"""The model-level guard: a code path that skips the importers and commands still cannot store a name
the rule refuses, whether it sets an attribute, builds a row, or runs an ORM bulk INSERT or UPDATE."""

from __future__ import annotations

import pytest
from hostile import SAMPLE
from sqlalchemy import insert, select, update

from rackctl.errors import ValidationError
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Interface, Profile, Rack, Site, StateChange


@pytest.mark.parametrize(
    ("model", "attribute"),
    [(Site, "name"), (Rack, "name"), (Device, "name"), (Profile, "name"), (Interface, "name")],
)
def test_constructing_a_row_with_a_hostile_name_is_refused(model: type, attribute: str) -> None:
    for name in SAMPLE:
        with pytest.raises(ValidationError, match=" refused: "):
            model(**{attribute: name})


def test_renaming_a_stored_row_is_refused(db: Database) -> None:
    with db.transaction() as session:
        site = session.scalars(select(Site).where(Site.name == "fra1")).one()
        with pytest.raises(ValidationError, match="site name 'r1-u03,gpu-r1' refused"):
            site.name = "r1-u03,gpu-r1"
        assert site.name == "fra1"


def test_free_text_columns_are_guarded_too() -> None:
    with pytest.raises(ValidationError, match="state change reason"):
        StateChange(reason="ok\nusername evil")
    with pytest.raises(ValidationError, match="site description"):
        Site(name="ams2", description="\x1b[2J")


def test_a_profile_cannot_name_a_vlan_with_shell_syntax() -> None:
    with pytest.raises(ValidationError, match="VLAN name"):
        Profile(name="p", extra={"vlans": {"tenant;reload": 100}})


def test_orm_bulk_insert_and_update_are_refused(db: Database) -> None:
    with db.transaction() as session:
        with pytest.raises(ValidationError, match="site name"):
            session.execute(insert(Site), [{"name": "ok1"}, {"name": "r 1"}])
        with pytest.raises(ValidationError, match="site name"):
            session.execute(insert(Site).values(name="$(id)"))
        with pytest.raises(ValidationError, match="site name"):
            session.execute(update(Site).where(Site.name == "fra1").values(name="../../x"))
        assert session.scalars(select(Site.name)).all() == ["fra1"]
