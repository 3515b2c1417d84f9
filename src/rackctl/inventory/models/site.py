"""Sites and racks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, StrEnumType
from rackctl.types import CoolingKind

if TYPE_CHECKING:
    from rackctl.inventory.models.device import Device
    from rackctl.inventory.models.power import PowerFeed


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")

    racks: Mapped[list[Rack]] = relationship(back_populates="site", order_by="Rack.name")


class Rack(Base):
    __tablename__ = "racks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    u_height: Mapped[int] = mapped_column(default=42)
    power_capacity_kw: Mapped[float]
    cooling_kind: Mapped[CoolingKind] = mapped_column(StrEnumType(CoolingKind), default=CoolingKind.AIR)
    cooling_limit_kw: Mapped[float]
    template: Mapped[str | None] = mapped_column(String(128))
    # The pod (a group of racks built and run together, e.g. one InfiniBand fabric): `@pod:NAME` selects it.
    pod: Mapped[str | None] = mapped_column(String(64), index=True)

    site: Mapped[Site] = relationship(back_populates="racks")
    # PDUs (no position) first and by name on every backend: PostgreSQL sorts NULLs last, SQLite first.
    devices: Mapped[list[Device]] = relationship(
        back_populates="rack", order_by="[Device.position.asc().nulls_first(), Device.name]"
    )
    feeds: Mapped[list[PowerFeed]] = relationship(
        back_populates="rack", order_by="PowerFeed.name", cascade="all, delete-orphan"
    )
