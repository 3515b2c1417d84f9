"""The Alembic migrations are the schema: they match the models, go down and up again, and make the
operation log append-only in the database itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from rackctl.errors import InventoryError
from rackctl.inventory.db import Base, Database
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
