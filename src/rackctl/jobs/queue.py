"""The task queue on the inventory's PostgreSQL: the procrastinate App, its schema, and queue names.

Queues are named SITE.KIND (`fra1.audit`, `ams2.bmc`): a worker listens to the sites whose management
networks it reaches and the kinds of work it is set up for. Devices in no rack go to `unracked.KIND`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from rackctl.errors import ConfigError, ValidationError
from rackctl.inventory.names import check_name

UNRACKED = "unracked"
SCHEMA_LOCK = 0x7261636B716D  # "rackqm": one schema install at a time
# Task names (rackctl's tasks, in tasks.py), here so that deferring and reading back need no procrastinate import.
AUDIT, POWER_READ, POWER_ACT = "rackctl:audit", "rackctl:power.read", "rackctl:power.act"
SCHEDULED_AUDIT = "rackctl:audit.scheduled"
PROVISION, BRINGUP, FIRMWARE = "rackctl:provision", "rackctl:bringup", "rackctl:firmware.update"


class Kind(StrEnum):
    """What a worker is set up for; a queue per site and kind."""

    AUDIT = "audit"
    BMC = "bmc"
    HOST = "host"
    PROVISION = "provision"
    FIRMWARE = "firmware"


def tag(label: str, job_id: int | None) -> str:
    """How the tables name a queued job's targets: `@rack:r12 (job 17)`."""
    return f"{label} (job {job_id})"


def queue_name(site: str, kind: Kind) -> str:
    return f"{site}.{kind.value}"


def kinds_from(text: str) -> tuple[Kind, ...]:
    """`audit,bmc` as kinds; an unknown one is one line naming the known ones."""
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    known = {k.value for k in Kind}
    bad = [part for part in chosen if part not in known]
    if bad or not chosen:
        raise ValidationError(f"--queues '{text}': expected some of {','.join(k.value for k in Kind)}")
    return tuple(Kind(part) for part in dict.fromkeys(chosen))


def sites_from(text: str) -> tuple[str, ...]:
    """`fra1,ams2` as site names (checked by the name rule, since they become queue names)."""
    sites = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    for site in sites:
        check_name(site, "--site")
    return sites


def conninfo(url: str) -> str:
    """The libpq connection string of a PostgreSQL inventory URL; SQLite is refused in one line."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            "the job queue needs PostgreSQL: this inventory is " + parsed.get_backend_name(),
            hint="run the command without --queue/--wait (SQLite runs everything in-process), "
            "or point RACKCTL_DB_URL at PostgreSQL",
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(url: str) -> Any:
    """The procrastinate App bound to the inventory at `url`, with rackctl's tasks registered."""
    import procrastinate

    from rackctl.jobs.tasks import register

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(url), kwargs={"application_name": "rackctl"})
    )
    register(app)
    return app


def has_schema(url: str) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
    return bool(row and row[0])


def ensure_schema(url: str) -> bool:
    """Apply procrastinate's own schema once (it lives beside rackctl's tables); True when it was applied now."""
    if has_schema(url):
        return False
    app = make_app(url)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        # Two workers starting at once: one applies the schema, the other waits here and then finds it.
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            if has_schema(url):
                return False
            with app.open():
                app.schema_manager.apply_schema()
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def require_schema(url: str) -> None:
    if not has_schema(url):
        raise ConfigError(
            "the job queue's tables are not in this inventory yet", hint="run 'rackctl db upgrade' or 'rackctl worker'"
        )
