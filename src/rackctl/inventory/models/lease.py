"""Leases: which destructive operation holds a device (or a PDU outlet) right now, and until when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rackctl.inventory.db import Base, UtcDateTime


class Lease(Base):
    """One held subject. The primary key is the last guard: two holders can never both insert it."""

    __tablename__ = "leases"
    __changelog__ = False  # who is working on a device right now: not inventory, and churns

    subject: Mapped[str] = mapped_column(String(160), primary_key=True)  # a device name or PDU:OUTLET
    token: Mapped[str] = mapped_column(String(36), index=True)  # one per acquisition, to renew and release
    actor: Mapped[str] = mapped_column(String(64))
    doing: Mapped[str] = mapped_column(String(64))  # "cycled", "switched off" ... as shown in a refusal
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
