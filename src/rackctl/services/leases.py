"""Per-device leases for destructive operations: two technicians never switch the same device at once.

A lease is one row per subject - a device name, or a PDU outlet as `PDU:NUMBER` - saying who holds it,
doing what, since when, from which host and process, and until when. Taking leases is check-and-take
under a lock (PostgreSQL: a transaction-level advisory lock; SQLite: `BEGIN IMMEDIATE`), so takers are
served one at a time; the subject being the table's primary key is the last guard. A lease expires TTL_S
after its last renewal (a holder renews while it runs), so a crashed holder blocks nobody for long; one
held by a process of this host that no longer exists is taken over at once.

The whole API::

    with leases.held(db, ["gpu-r12-u03"], "cycled", actor) as lease:
        lease.granted             # the subjects this run now holds, in the order asked
        lease.refused             # subject -> "gpu-r12-u03 is being cycled by alice since 14:02"
        lease.refusal("gpu-r12-u03")   # that as a failed fan-out result (errors.Busy)

A fan-out gives every refused device its failed result and goes on with the others. Leases are taken by
the service that acts (never by a driver), for the devices it will really touch, and released when it
ends. `acquire` / `Held.release` are there for work that cannot sit in one `with` block.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import Busy
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.inventory.locking import advisory
from rackctl.inventory.models import Lease

TTL_S = 120.0  # a holder renews every TTL_S / 3; a crashed one's leases lapse within TTL_S
ADVISORY_KEY = 0x7261636B6C6561  # "rackle": one PostgreSQL advisory lock serialises every check-and-take
CHUNK = 500  # subjects per IN (...) list


@dataclass
class Held:
    """The leases one run holds, and why the others were refused."""

    db: Database
    token: str
    granted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    ttl_s: float = TTL_S

    def refusal(self, subject: str) -> fanout.Result[Any]:
        """The refused subject as a failed result, for the fan-out's list."""
        return fanout.Result(subject, error=Busy(self.refused[subject]), attempts=0)

    def renew(self) -> None:
        """Push the expiry TTL_S ahead for everything this run holds."""
        with self.db.transaction() as session:
            session.execute(update(Lease).where(Lease.token == self.token).values(expires_at=_expiry(self.ttl_s)))

    def release(self) -> None:
        with self.db.transaction() as session:
            session.execute(delete(Lease).where(Lease.token == self.token))


def acquire(db: Database, subjects: Sequence[str], doing: str, actor: str, ttl_s: float = TTL_S) -> Held:
    """Take a lease on every subject not held by another live run; the rest are refused, with who holds them."""
    held = Held(db, str(uuid.uuid4()), ttl_s=ttl_s)
    wanted = list(dict.fromkeys(subjects))
    with db.transaction() as session:
        advisory(session, ADVISORY_KEY)  # check-and-take, one taker at a time
        taken = _live_holders(session, wanted)
        for subject in wanted:
            if subject in taken:
                held.refused[subject] = describe(taken[subject])
                continue
            session.add(_row(subject, held.token, doing, actor, ttl_s))
            held.granted.append(subject)
    return held


@contextmanager
def held(db: Database, subjects: Sequence[str], doing: str, actor: str, ttl_s: float = TTL_S) -> Iterator[Held]:
    """Leases for the block: renewed while it runs, released when it ends (whatever happens).

    No subjects: nothing is taken and the database is not touched (for callers that lease conditionally).
    """
    if not subjects:
        yield Held(db, "")
        return
    lease = acquire(db, subjects, doing, actor, ttl_s)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(lease, stop), daemon=True, name="rackctl-leases")
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join()
        lease.release()


def describe(lease: Lease) -> str:
    """'gpu-r12-u03 is being cycled by alice since 14:02' (the date too when it is not today)."""
    since = lease.since.astimezone()
    when = since.strftime("%H:%M") if since.date() == datetime.now().astimezone().date() else f"{since:%Y-%m-%d %H:%M}"
    return f"{lease.subject} is being {lease.doing} by {lease.actor} since {when}"


def holders(session: Session, subjects: Sequence[str]) -> dict[str, Lease]:
    """Live leases on the subjects (for showing; takes nothing)."""
    return _live_holders(session, list(subjects), purge=False)


def _live_holders(session: Session, subjects: list[str], purge: bool = True) -> dict[str, Lease]:
    """Leases on the subjects that still count; with `purge`, lapsed ones are deleted."""
    now, live = utcnow(), {}
    for chunk in queries.in_batches(subjects, CHUNK):
        for row in session.scalars(select(Lease).where(Lease.subject.in_(chunk))):
            if row.expires_at > now and not _holder_gone(row):
                live[row.subject] = row
            elif purge:
                session.delete(row)
    session.flush()
    return live


def _holder_gone(lease: Lease) -> bool:
    """The holder was a process of this host that no longer runs (killed, crashed)."""
    if lease.host != socket.gethostname():
        return False
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _row(subject: str, token: str, doing: str, actor: str, ttl_s: float) -> Lease:
    return Lease(
        subject=subject[:160],
        token=token,
        actor=actor[:64],
        doing=doing[:64],
        host=socket.gethostname()[:255],
        pid=os.getpid(),
        since=utcnow(),
        expires_at=_expiry(ttl_s),
    )


def _expiry(ttl_s: float) -> datetime:
    return utcnow() + timedelta(seconds=ttl_s)


def _renew_until(lease: Held, stop: threading.Event) -> None:
    while not stop.wait(lease.ttl_s / 3):
        try:
            lease.renew()
        except Exception:  # a busy database now: the next renewal comes well before expiry
            continue
