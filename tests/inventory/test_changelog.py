"""The change log: every inventory write is recorded from the session itself (who, when, which object,
field by field), merged per transaction, rolled back with it, append-only, and shown by `rackctl log`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from rackctl.errors import InventoryError
from rackctl.inventory.db import Database
from rackctl.inventory.models import Change, Device, Interface, Site

Cli = Callable[..., Any]
DATA = Path(__file__).parent.parent / "data"


def _changes(db: Database, **where: Any) -> list[Change]:
    with db.transaction() as session:
        query = select(Change).order_by(Change.id)
        for column, value in where.items():
            query = query.where(getattr(Change, column) == value)
        return list(session.scalars(query))


def test_every_write_path_is_recorded_with_who_and_which_command(
    cli: Cli, empty_db_url: str, db: Database, tmp_path: Path
) -> None:
    assert cli("--db", empty_db_url, "init").exit_code == 0
    fresh = Database(empty_db_url)
    types = _changes(fresh, kind="device-type")
    fresh.dispose()
    assert types and {(c.action, c.actor, c.command) for c in types} == {("create", "tester", "rackctl init")}

    assert cli("site", "add", "ams2", "--description", "cage 4").exit_code == 0
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("device", "set", "gpu-r12-u03", "--state", "racked").exit_code == 0
    sheet = tmp_path / "serials.csv"
    sheet.write_text("name,serial\ngpu-r12-u11,SN-11\n", encoding="utf-8")
    assert cli("import", "csv", str(sheet)).exit_code == 0
    imported = cli("devicetype", "import", str(DATA / "devicetypes" / "Supermicro"))
    assert imported.exit_code == 0, imported.stderr

    commands = {c.command for c in _changes(db)}
    assert {
        "rackctl site add",
        "rackctl rack create",
        "rackctl device set",
        "rackctl import csv",
        "rackctl devicetype import",
    } <= commands
    created = {c.kind for c in _changes(db, command="rackctl rack create", action="create")}
    assert {"rack", "power-feed", "device", "interface", "ip-address", "cable", "power-port", "pdu-outlet"} <= created
    assert {"management-endpoint", "profile"} <= created
    (site,) = _changes(db, command="rackctl site add")
    assert (site.action, site.object_name, site.after and site.after["description"]) == ("create", "ams2", "cage 4")


def test_an_update_records_each_changed_field_before_and_after(r12: Cli, db: Database) -> None:
    result = r12("device", "set", "gpu-r12-u03", "--state", "racked", "--serial", "SN-0003", "--asset-tag", "")
    assert result.exit_code == 0, result.stderr
    (change,) = _changes(db, command="rackctl device set")
    assert (change.action, change.kind, change.object_name, change.scope) == (
        "update",
        "device",
        "gpu-r12-u03",
        "gpu-r12-u03",
    )
    # asset_tag was already empty: not a change
    assert change.before == {"serial": None, "state": "planned"}
    assert change.after == {"serial": "SN-0003", "state": "racked"}
    assert change.actor == "tester" and change.at is not None


def test_a_refused_command_leaves_no_entry(r12: Cli, db: Database) -> None:
    before = len(_changes(db))
    result = r12("device", "set", "gpu-r12-u03", "--state", "in-service")  # skips the bring-up steps
    assert result.exit_code == 2
    assert len(_changes(db)) == before


def test_one_entry_per_object_and_transaction(db: Database) -> None:
    with db.transaction() as session:
        session.info["actor"] = "anna"
        site = Site(name="tmp1")
        session.add(site)
        session.flush()
        site.description = "first"
        session.flush()
        site.description = "second"
        gone = Site(name="gone")
        session.add(gone)
        session.flush()
        session.delete(gone)
    (created,) = _changes(db, actor="anna")
    assert (created.action, created.object_name, created.after and created.after["description"]) == (
        "create",
        "tmp1",
        "second",
    )
    with db.transaction() as session:
        site = session.scalars(select(Site).where(Site.name == "tmp1")).one()
        site.description = "third"
        session.flush()
        site.description = "second"  # back where it was: nothing changed
    assert len(_changes(db, object_name="tmp1")) == 1


def test_components_are_named_by_their_device_and_cables_by_both_ends(r12: Cli, db: Database) -> None:
    with db.transaction() as session:
        iface = session.scalars(
            select(Interface).join(Device).where(Device.name == "gpu-r12-u03", Interface.name == "ens1f0np0")
        ).one()
        iface.mtu = 1500
    (change,) = _changes(db, kind="interface", action="update")
    assert (change.object_name, change.scope, change.before, change.after) == (
        "gpu-r12-u03:ens1f0np0",
        "gpu-r12-u03",
        {"mtu": 9000},
        {"mtu": 1500},
    )
    cables = _changes(db, kind="cable", peer="leaf-r12-a")
    assert cables and all(" - leaf-r12-a:" in c.object_name for c in cables)


def test_the_change_log_is_append_only(r12: Cli, db: Database) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET actor = 'mallory'"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM changes"))
    with pytest.raises(InventoryError, match="append-only"), db.transaction() as session:
        first = session.scalars(select(Change)).first()
        assert first is not None
        first.actor = "mallory"


def test_bulk_writes_cannot_bypass_it(r12: Cli, db: Database) -> None:
    with pytest.raises(InventoryError, match="bypass the change log"), db.transaction() as session:
        session.execute(update(Device).where(Device.name == "gpu-r12-u03").values(serial="X"))
    with pytest.raises(InventoryError, match="bypass the change log"), db.transaction() as session:
        session.execute(delete(Site).where(Site.name == "nowhere"))
    with db.transaction() as session:
        session.execute(insert(Site), [{"name": "bulk1", "description": ""}, {"name": "bulk2", "description": ""}])
    assert [c.object_name for c in _changes(db, kind="site", action="create") if c.object_name.startswith("bulk")] == [
        "bulk1",
        "bulk2",
    ]


def test_log_shows_changes_filtered_by_target_kind_and_action(r12: Cli) -> None:
    assert r12("device", "set", "gpu-r12-u03", "--serial", "SN-1").exit_code == 0
    assert r12("device", "set", "gpu-r12-u11", "--serial", "SN-2").exit_code == 0
    latest = r12("log", "-n", "2", "--json").json()
    assert [e["summary"] for e in latest] == [
        "device gpu-r12-u11: serial: (none) -> SN-2",
        "device gpu-r12-u03: serial: (none) -> SN-1",
    ]
    creation = r12("log", "-n", "3", "--json").json()[2]
    assert creation["command"] == "rackctl rack create" and "created 1 rack" in creation["summary"]
    assert "12 devices" in creation["summary"] and len(creation["changes"]) > 100

    on_u03 = r12("log", "--target", "gpu-r12-u03", "-n", "500", "--json").json()
    assert {e["scope"] for e in on_u03 if e["kind"] != "cable"} == {"gpu-r12-u03"}
    assert {"device", "interface", "power-port", "cable", "management-endpoint"} <= {e["kind"] for e in on_u03}
    updates = r12("log", "--target", "gpu-r12-u03", "--action", "update", "--json").json()
    assert [(e["kind"], e["before"], e["after"]) for e in updates] == [("device", {"serial": None}, {"serial": "SN-1"})]
    cables = r12("log", "--kind", "cable", "-n", "1000", "--json").json()
    assert len(cables) == 32 and {e["kind"] for e in cables} == {"cable"}
    table = r12("log", "--target", "gpu-r12-u03")
    assert table.exit_code == 0 and "serial: (none) -> SN-1" in table.stdout

    refused = r12("log", "--kind", "devices")
    assert refused.exit_code == 2 and "unknown kind 'devices'" in refused.stderr and refused.stdout == ""
