"""The Alembic migrations are the schema: they match the models, go down and up again, and make the
operation log append-only in the database itself."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from rackctl.errors import InventoryError
from rackctl.inventory import revisions, schema
from rackctl.inventory.db import Base, Database, require_schema
from rackctl.inventory.models import Operation, OperationResult
from rackctl.inventory.schema import alembic_config, current_revision, head_revision, upgrade
from rackctl.services.oplog import TargetResult, record


@pytest.fixture
def empty_db(empty_db_url: str) -> Iterator[Database]:
    database = Database(empty_db_url)
    yield database
    database.dispose()


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_to_head_matches_the_models(empty_db: Database) -> None:
    assert current_revision(empty_db) is None
    upgrade(empty_db)
    assert current_revision(empty_db) == head_revision(empty_db)
    assert _tables(empty_db) == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert _differences(empty_db) == []


def test_downgrade_to_base_and_up_again(empty_db: Database) -> None:
    upgrade(empty_db)
    command.downgrade(alembic_config(empty_db), "base")
    assert _tables(empty_db) == {"alembic_version"}
    assert current_revision(empty_db) is None
    upgrade(empty_db)
    assert _differences(empty_db) == []
    upgrade(empty_db)  # at head already: nothing to do, nothing fails
    assert current_revision(empty_db) == head_revision(empty_db)


def _one_operation(db: Database) -> None:
    with db.transaction() as session:
        record(session, "tester", "power on", [TargetResult("gpu-r12-u03", True, "on")])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE operations SET actor = 'someone-else'",
        "DELETE FROM operations",
        "UPDATE operation_results SET ok = false",
        "DELETE FROM operation_results",
    ],
)
def test_the_database_refuses_rewriting_the_operation_log(db: Database, statement: str) -> None:
    _one_operation(db)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.transaction() as session:
        operation = session.scalars(select(Operation)).one()
        assert operation.actor == "tester" and [r.ok for r in operation.results] == [True]


def test_the_orm_refuses_changing_or_deleting_log_entries(db: Database) -> None:
    _one_operation(db)
    with pytest.raises(InventoryError, match="append-only"), db.transaction() as session:
        session.scalars(select(Operation)).one().summary = "rewritten"
    with pytest.raises(InventoryError, match="append-only"), db.transaction() as session:
        session.delete(session.scalars(select(OperationResult)).one())
    with db.transaction() as session:
        assert session.scalars(select(Operation.summary)).one() == "1/1 ok"
        assert session.scalars(select(OperationResult.target)).all() == ["gpu-r12-u03"]


def test_appending_to_the_log_is_allowed(db: Database) -> None:
    _one_operation(db)
    _one_operation(db)
    with db.transaction() as session:
        assert len(session.scalars(select(Operation)).all()) == 2


def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


_REBUILD_DEVICES = '''"""test only: a change that rebuilds the devices table on SQLite"""
import sqlalchemy as sa
from alembic import op

revision = "9000"
down_revision = "{head}"
branch_labels = None
depends_on = None


def _recreate():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    with op.batch_alter_table("devices", recreate=_recreate()) as batch_op:
        batch_op.add_column(sa.Column("scratch", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("devices", recreate=_recreate()) as batch_op:
        batch_op.drop_column("scratch")
'''


_FAILS_HALF_WAY = '''"""test only: creates a table, then fails"""
import sqlalchemy as sa
from alembic import op

revision = "9000"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("devices", recreate=recreate) as batch_op:
        batch_op.add_column(sa.Column("scratch", sa.String(length=8), nullable=True))
    raise RuntimeError("the migration fails half-way")


def downgrade():
    pass
'''


def _with_migration(folder: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Iterator[str]:
    shutil.copytree(schema.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    head = revisions.known_revisions()[-1]
    (folder / "versions" / "9000_test_only.py").write_text(body.format(head=head))
    monkeypatch.setattr(schema, "MIGRATIONS", folder)
    monkeypatch.setattr(revisions, "VERSIONS", folder / "versions")
    revisions.known_revisions.cache_clear()
    yield "9000"
    revisions.known_revisions.cache_clear()


@pytest.fixture
def one_more_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """rackctl's migrations plus one that rebuilds `devices`, as the next release's would; its revision."""
    yield from _with_migration(tmp_path / "migrations", monkeypatch, _REBUILD_DEVICES)


@pytest.fixture
def failing_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from _with_migration(tmp_path / "migrations", monkeypatch, _FAILS_HALF_WAY)


def test_a_migration_that_fails_half_way_changes_nothing(
    db: Database, build: Callable[..., list[str]], failing_migration: str
) -> None:
    build("r12")
    before, head = _counts(db), current_revision(db)
    with pytest.raises(RuntimeError, match="half-way"):
        schema.upgrade(db, failing_migration)
    assert current_revision(db) == head
    assert "half_done" not in _tables(db)
    assert "scratch" not in {c["name"] for c in inspect(db.engine).get_columns("devices")}
    assert _counts(db) == before


def test_a_table_rebuild_up_and_down_keeps_every_dependent_row(
    db: Database, build: Callable[..., list[str]], one_more_migration: str
) -> None:
    build("r12")
    _one_operation(db)
    before = _counts(db)
    assert before["devices"] and before["state_changes"] and before["interfaces"] and before["management_endpoints"]
    head = current_revision(db)
    schema.upgrade(db, one_more_migration)
    assert _counts(db) == before
    schema.downgrade(db, head or "base")
    assert _counts(db) == before


def test_the_operation_log_stays_append_only_through_a_rebuild(db: Database, one_more_migration: str) -> None:
    _one_operation(db)
    head = current_revision(db)
    schema.upgrade(db, one_more_migration)
    schema.downgrade(db, head or "base")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM operations"))


def test_a_schema_behind_this_rackctl_is_refused_until_upgraded(db: Database, one_more_migration: str) -> None:
    status = revisions.schema_status(db)
    assert status.state == "behind" and status.head == one_more_migration
    with pytest.raises(InventoryError, match="behind") as refused:
        require_schema(db)
    assert "rackctl db upgrade" in (refused.value.hint or "")
    head = status.current
    schema.upgrade(db)
    require_schema(db)
    schema.downgrade(db, head or "base")  # on PostgreSQL every test shares this database: leave it as it was


def test_a_schema_newer_than_this_rackctl_is_refused(db: Database) -> None:
    with db.engine.begin() as conn:
        real = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    try:
        with pytest.raises(InventoryError, match="9999_future, newer than this rackctl knows"):
            require_schema(db)
    finally:  # on PostgreSQL every test shares this database: leave its version as it was
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": real})


def test_the_log_takes_a_command_longer_than_any_varchar(db: Database) -> None:
    targets = [f"gpu-r{r}-u{u:02d}" for r in range(200) for u in range(40)]
    command = "power off " + ",".join(targets)
    with db.transaction() as session:
        record(session, "tester", command, [TargetResult(t, True, "off") for t in targets[:3]])
    with db.transaction() as session:
        assert session.scalars(select(Operation.command)).one() == command


def test_the_database_records_who_really_wrote_each_log_entry(db: Database) -> None:
    _one_operation(db)
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "INSERT INTO operations (started_at, finished_at, actor, command, targets, ok, summary, db_user) "
                    "VALUES (now(), now(), 'alice', 'power off', '[]', true, '', 'forged')"
                )
            )
            users = set(conn.execute(text("SELECT db_user FROM operations")).scalars())
            assert users == {conn.execute(text("SELECT session_user")).scalar()}
            with pytest.raises(DBAPIError, match="append-only"), conn.begin_nested():
                conn.execute(text("TRUNCATE operations, operation_results, operation_ends"))
        else:
            assert set(conn.execute(text("SELECT db_user FROM operations")).scalars()) == {None}


def test_an_immediate_transaction_waits_for_the_write_lock_then_says_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "inventory.db"
    upgrade(Database(f"sqlite:///{path}"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    impatient = Database(f"sqlite:///{path}", wait=0.2)
    try:
        refused = pytest.raises(InventoryError, match=r"locked by another writer; gave up after 0\.2 s")
        with refused, impatient.transaction(immediate=True) as session:
            session.scalars(select(Operation)).all()  # a read alone would not wait: the lock is taken first
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.dispose()
