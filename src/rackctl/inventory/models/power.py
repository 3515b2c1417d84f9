"""Power feeds of a rack and the PDU outlets that feed device power supplies."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base

if TYPE_CHECKING:
    from rackctl.inventory.models.device import Device, PowerPort
    from rackctl.inventory.models.site import Rack


class PowerFeed(Base):
    """One utility feed into a rack (A or B), with its circuit rating."""

    __tablename__ = "power_feeds"
    __table_args__ = (UniqueConstraint("rack_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rack_id: Mapped[int] = mapped_column(ForeignKey("racks.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(16))
    voltage: Mapped[int]  # line-to-line for three-phase circuits
    amperage: Mapped[float]
    phases: Mapped[int] = mapped_column(default=3)
    max_utilisation: Mapped[float] = mapped_column(default=0.8)  # continuous-load derating

    rack: Mapped[Rack] = relationship(back_populates="feeds")
    pdus: Mapped[list[Device]] = relationship(back_populates="power_feed", order_by="Device.name")

    @property
    def capacity_w(self) -> float:
        factor = math.sqrt(3) if self.phases == 3 else 1.0
        return self.voltage * self.amperage * factor

    @property
    def usable_w(self) -> float:
        return self.capacity_w * self.max_utilisation


class PduOutlet(Base):
    """A switched outlet of a PDU and the device power supply plugged into it."""

    __tablename__ = "pdu_outlets"
    __table_args__ = (UniqueConstraint("pdu_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pdu_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(64), default="")
    type: Mapped[str | None] = mapped_column(String(64))  # e.g. iec-60320-c19
    phase: Mapped[str | None] = mapped_column(String(8))  # L1/L2/L3 or a bank name
    rating_a: Mapped[float | None]
    power_port_id: Mapped[int | None] = mapped_column(ForeignKey("power_ports.id", ondelete="SET NULL"), unique=True)

    pdu: Mapped[Device] = relationship(back_populates="outlets", foreign_keys=[pdu_id])
    power_port: Mapped[PowerPort | None] = relationship(back_populates="outlet")

    @property
    def feed(self) -> str | None:
        return self.pdu.power_feed.name if self.pdu.power_feed else None

    @property
    def label(self) -> str:
        return f"{self.pdu.name}:{self.number}"
