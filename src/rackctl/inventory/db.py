"""Engine, declarative base and transactions for the inventory database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from rackctl.errors import ConfigError, Conflict, InventoryError, ValidationError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StrEnumType(TypeDecorator[StrEnum]):
    """Store a StrEnum as its value in a plain VARCHAR (no native enum to migrate)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def check_url(url: str) -> None:
    """Refuse a database URL of a backend rackctl does not support, before any driver is loaded."""
    backend = url.split(":", 1)[0].split("+", 1)[0].lower()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"'{backend}' databases are not supported: rackctl supports sqlite and postgresql",
            hint="e.g. sqlite:////var/lib/rackctl/inventory.db or postgresql+psycopg://user@host/rackctl",
        )


def make_engine(url: str, wait: float = 30.0, **kwargs: Any) -> Engine:
    """Create an engine: SQLite with foreign keys, real transactions and a busy timeout of `wait` seconds;
    PostgreSQL with a lock timeout of `wait` seconds."""
    check_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": wait, "check_same_thread": False})
    elif url.startswith("postgresql"):
        kwargs.setdefault("connect_args", {"options": f"-c lock_timeout={int(wait * 1000)}"})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Database:
    """One inventory database: an engine and the sessions made from it."""

    def __init__(
        self, url: str, wait: float = 30.0, on_wait: Callable[[str], None] | None = None, **engine_kwargs: Any
    ) -> None:
        self.url = url
        self.wait = wait
        self.engine = make_engine(url, wait, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._watch = _LockWaitWatch(self.engine, on_wait, wait) if on_wait else None

    @contextmanager
    def transaction(self, immediate: bool = False) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back entirely on any error.

        `immediate`: take the database's write lock when the transaction starts (SQLite `BEGIN IMMEDIATE`;
        on PostgreSQL lock the rows to change with SELECT ... FOR UPDATE), for read-then-write changes.
        """
        session = self._sessions()
        try:
            if immediate and self.engine.dialect.name == "sqlite":
                # Take the write lock before the first read: a read-then-write change cannot interleave with
                # another writer, and waits for it (up to `wait`) instead of failing at its first write.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(f"the inventory refused the change: {_integrity_reason(exc)}") from None
        except DataError as exc:  # PostgreSQL: a value too long for its column, or out of range
            session.rollback()
            raise ValidationError(f"the inventory refused a value: {_integrity_reason(exc)}") from None
        except DBAPIError as exc:
            session.rollback()
            raise database_error(exc, self.url, self.wait) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        if self._watch:
            self._watch.stop()
        self.engine.dispose()


class _LockWaitWatch:
    """Says once per statement when one has waited over a second: another writer holds the database."""

    def __init__(self, engine: Engine, notify: Callable[[str], None], wait: float, after: float = 1.0) -> None:
        self._notify, self._wait, self._after = notify, wait, after
        self._running: dict[int, float] = {}
        self._told: set[int] = set()
        self._stop = threading.Event()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._done)
        event.listen(engine, "handle_error", self._failed)
        threading.Thread(target=self._loop, name="rackctl-db-wait", daemon=True).start()

    def _before(self, conn: Any, *_args: Any) -> None:
        self._running[id(conn)] = time.monotonic()

    def _done(self, conn: Any, *_args: Any) -> None:
        self._running.pop(id(conn), None)
        self._told.discard(id(conn))

    def _failed(self, context: Any) -> None:
        self._done(context.connection)

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            now = time.monotonic()
            for key, started in list(self._running.items()):
                if now - started >= self._after and key not in self._told:
                    self._told.add(key)
                    self._notify(
                        f"waiting for the inventory: another writer holds it (giving up after {self._wait:g} s, --wait)"
                    )

    def stop(self) -> None:
        self._stop.set()


def _integrity_reason(exc: DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return text


def database_error(exc: DBAPIError, url: str, wait: float) -> InventoryError:
    """One line for a database that cannot do what was asked: locked, read-only, not a database, gone."""
    reason = _integrity_reason(exc)
    where = redact_url(url)
    lowered = reason.lower()
    if "database is locked" in lowered or "lock timeout" in lowered:
        return InventoryError(
            f"the inventory at {where} is locked by another writer; gave up after {wait:g} s",
            hint="wait for the other rackctl to finish, or raise --wait",
        )
    if "readonly database" in lowered or "read-only" in lowered:
        return InventoryError(
            f"the inventory at {where} is read-only: {reason}",
            hint="check the file's and its folder's permissions, or use a database you may write",
        )
    if "not a database" in lowered or "malformed" in lowered:
        return InventoryError(f"{where} is not a rackctl inventory: {reason}", hint="check --db / RACKCTL_DB_URL")
    return InventoryError(f"the inventory at {where} failed: {reason}")


def require_schema(db: Database) -> None:
    """Refuse to work on a database whose schema is missing, behind, or newer than this rackctl knows."""
    from rackctl.inventory.revisions import schema_status

    status = schema_status(db)
    where = redact_url(db.url)
    if status.state == "empty":
        raise InventoryError(f"no inventory at {where}", hint="run 'rackctl init' first")
    if status.state == "newer":
        raise InventoryError(
            f"the inventory at {where} has schema {status.current}, newer than this rackctl knows "
            f"(its newest is {status.head})",
            hint="use the rackctl version that upgraded it; this one must not write to it",
        )
    if status.state == "behind":
        raise InventoryError(
            f"the inventory at {where} has schema {status.current}, behind this rackctl's {status.head}",
            hint="run 'rackctl db upgrade' (back the database up first)",
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
