"""SSH host keys the inventory pins per device: recorded at first contact (`rackctl trust`), enforced after."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, UtcDateTime, utcnow

if TYPE_CHECKING:
    from rackctl.inventory.models.device import Device


class HostKey(Base):
    """One public host key of a device (one per key type), with who trusted it, when, where and how."""

    __tablename__ = "host_keys"
    __table_args__ = (UniqueConstraint("device_id", "key_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    key_type: Mapped[str] = mapped_column(String(64))  # ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa
    key: Mapped[str] = mapped_column(Text)  # base64 of the public key blob, as in known_hosts
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA256:... as `ssh-keygen -lf` prints it
    address: Mapped[str] = mapped_column(String(255))  # where the key was seen ([host]:port for other ports)
    source: Mapped[str] = mapped_column(String(32))  # scan, known_hosts, trust-new-keys, lab
    trusted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    trusted_by: Mapped[str] = mapped_column(String(64))

    device: Mapped[Device] = relationship(back_populates="host_keys")
