"""Shared fixtures: an inventory per test (SQLite by default, PostgreSQL when RACKCTL_TEST_DB_URL is set)
and a CLI runner bound to it."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from rackctl.cli import output
from rackctl.cli.app import app
from rackctl.inventory import devicetypes
from rackctl.inventory.db import Base, Database
from rackctl.inventory.models import Site
from rackctl.inventory.schema import upgrade
from rackctl.paths import data_dir
from tests.pgserver import throwaway_server

# The suite draws the same generated examples every run, so a red run reproduces and no landing waits on a
# lucky draw; `pytest --hypothesis-profile explore` searches afresh (do that when changing a rule or renderer).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

PG_URL = os.environ.get("RACKCTL_TEST_DB_URL", "")
_DATABASE_NUMBERS = itertools.count()


def _seed(db: Database) -> None:
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes")])
        session.add(Site(name="fra1", description="test site"))


@pytest.fixture(scope="session", autouse=True)
def secret_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The run's secret folder (owner-only): the only place `file:` references may point, set before any
    module's lab starts, so labs write their secrets there too."""
    folder = tmp_path_factory.mktemp("refs")  # a name no test password is part of
    folder.chmod(0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RACKCTL_SECRET_DIRS", str(folder))
        yield folder


@pytest.fixture
def secret_folder(secret_dir: Path, tmp_path: Path) -> Path:
    """This test's own owner-only folder inside the secret folder (names then never collide)."""
    folder = secret_dir / tmp_path.name
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


@pytest.fixture
def secret_file(secret_dir: Path) -> Callable[[str, str], str]:
    """Write a secret as rackctl expects it (0600 from its first byte, in the secret folder); returns `file:PATH`."""
    from rackctl.secrets import write_private

    def write(name: str, value: str) -> str:
        path = secret_dir / name
        write_private(path, value + "\n")
        return f"file:{path}"

    return write


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, seeded database made once per run: a SQLite file to copy, or the PostgreSQL URL."""
    if PG_URL:
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(db)
        db.dispose()
        yield PG_URL
        return
    path = tmp_path_factory.mktemp("template") / "inventory.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    _seed(db)
    db.dispose()
    yield str(path)


@pytest.fixture
def db_url(_template_db: str, tmp_path: Path) -> str:
    if PG_URL:
        db = Database(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            # The operation log refuses TRUNCATE; a superuser may switch triggers off for the test reset.
            conn.execute(text("SET session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _seed(db)
        db.dispose()
        return PG_URL
    path = tmp_path / "inventory.db"
    shutil.copy(_template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for tests that need PostgreSQL on every run: the suite's own, or a private one."""
    if PG_URL:
        yield PG_URL
        return
    with throwaway_server() as url:
        yield url


@pytest.fixture
def postgres_db_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = f"rackctl_pg_{os.getpid()}_{next(_DATABASE_NUMBERS)}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, for migrations and `rackctl init` from scratch."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"rackctl_empty_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def row_counts(db: Database) -> Callable[[], dict[str, int]]:
    """Rows per table, to show that a refused command wrote nothing."""

    def count() -> dict[str, int]:
        with db.engine.connect() as conn:
            return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}

    return count


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run `rackctl ARGS...` in-process against this test's inventory."""
    monkeypatch.setenv("RACKCTL_DB_URL", db_url)
    monkeypatch.setenv("RACKCTL_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("RACKCTL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RACKCTL_ACTOR", "tester")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> CliResult:
        output.reset()
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        output.reset()
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def r12(cli: Callable[..., CliResult]) -> Callable[..., CliResult]:
    """The CLI bound to an inventory holding rack r12 built from the shipped h100-4node-air template."""
    result = cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    assert result.exit_code == 0, result.stderr
    return cli
