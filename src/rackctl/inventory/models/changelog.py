"""The change log: every inventory object created, changed or deleted, field by field (NetBox's ObjectChange).

Rows are written by `rackctl.inventory.changelog` from the session's own flushes, never by commands, and
are never changed or deleted (the database refuses it, like the operation log). Objects are kept by
name, not by foreign key, so the history of a removed device stays readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rackctl.inventory.db import Base, UtcDateTime, utcnow


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_scope", "scope"),
        Index("ix_changes_peer", "peer"),
        Index("ix_changes_kind", "kind"),
    )
    __changelog__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(String(255), default="")
    request_id: Mapped[str] = mapped_column(String(32))  # one per transaction: changes made together
    action: Mapped[str] = mapped_column(String(8))  # create, update, delete
    kind: Mapped[str] = mapped_column(String(64))  # device, interface, power-port, rack ...
    object_id: Mapped[int | None]
    object_name: Mapped[str] = mapped_column(String(255))  # e.g. gpu-r12-u03:ens1f0np0
    # The device, rack, site, device type or profile the object belongs to, and for a cable its far end's.
    scope: Mapped[str] = mapped_column(String(128), default="")
    peer: Mapped[str | None] = mapped_column(String(128))
    # Field -> value before and after: every field for a create (after) or delete (before), only the
    # changed ones for an update.
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
