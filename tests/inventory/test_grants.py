"""On PostgreSQL the operation log is evidence even against the inventory's own users: with the grants
`rackctl db grants` prints, an operator changes the inventory and appends to the log, but cannot rewrite,
delete or empty it, and the log names the database user beside the actor the client claims."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from rackctl.inventory.db import Database
from rackctl.inventory.schema import upgrade
from tests.conftest import CliResult


@pytest.fixture
def operator_url(postgres_db_url: str, cli: Callable[..., CliResult]) -> str:
    """The inventory created by its owner; an operator role granted what `rackctl db grants` prints."""
    owner = Database(postgres_db_url)
    upgrade(owner)
    printed = cli("db", "grants", "--role", "ops_alice")
    assert printed.exit_code == 0, printed.stderr
    with owner.engine.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS ops_alice"))
        conn.execute(text("CREATE ROLE ops_alice LOGIN"))
        for statement in printed.stdout.strip().splitlines():
            conn.execute(text(statement))
    owner.dispose()
    return make_url(postgres_db_url).set(username="ops_alice").render_as_string(hide_password=False)


_INSERT = (
    "INSERT INTO operations (started_at, finished_at, actor, command, targets, ok, summary) "
    "VALUES (now(), now(), 'bob', 'power off gpu-r12-u03', '[\"gpu-r12-u03\"]', true, '1/1 ok')"
)


@pytest.mark.parametrize(
    "rewrite",
    [
        "UPDATE operations SET actor = 'nobody'",
        "DELETE FROM operations",
        "TRUNCATE operations CASCADE",
        "TRUNCATE changes",
    ],
)
def test_an_operator_appends_to_the_log_but_cannot_rewrite_it(operator_url: str, rewrite: str) -> None:
    engine = create_engine(operator_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(_INSERT))
            conn.execute(text("INSERT INTO sites (name, description) VALUES ('fra9', 'an operator may edit')"))
        with pytest.raises(DBAPIError, match=r"permission denied|append-only"), engine.begin() as conn:
            conn.execute(text(rewrite))
        with engine.connect() as conn:
            row = conn.execute(text("SELECT actor, db_user FROM operations")).one()
        assert tuple(row) == ("bob", "ops_alice")  # the claimed actor, and who the database knows it was
    finally:
        engine.dispose()


def test_grants_refuse_a_role_name_that_is_not_one(cli: Callable[..., CliResult]) -> None:
    result = cli("db", "grants", "--role", "ops; DROP TABLE operations")
    assert result.exit_code == 2
    assert "role name" in result.stderr
