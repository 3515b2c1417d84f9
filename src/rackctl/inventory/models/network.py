"""Interfaces, their addresses, and the cables between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, StrEnumType
from rackctl.types import InterfaceKind

if TYPE_CHECKING:
    from rackctl.inventory.models.device import Device


class Interface(Base):
    __tablename__ = "interfaces"
    __table_args__ = (UniqueConstraint("device_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[InterfaceKind] = mapped_column(StrEnumType(InterfaceKind))
    type: Mapped[str | None] = mapped_column(String(64))  # NetBox type, e.g. 400gbase-x-osfp
    speed_mbps: Mapped[int | None]
    mac: Mapped[str | None] = mapped_column(String(17), unique=True)
    mtu: Mapped[int | None]
    bond_id: Mapped[int | None] = mapped_column(ForeignKey("interfaces.id", ondelete="SET NULL"))
    sriov_vfs: Mapped[int] = mapped_column(default=0)
    mgmt_only: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(String(255), default="")
    # A switch port split into several (lanes x speed, e.g. 4x100g), as the rack template says.
    breakout: Mapped[str | None] = mapped_column(String(16))

    device: Mapped[Device] = relationship(back_populates="interfaces")
    bond: Mapped[Interface | None] = relationship(remote_side=[id], back_populates="members")
    members: Mapped[list[Interface]] = relationship(back_populates="bond", order_by="Interface.name")
    addresses: Mapped[list[IpAddress]] = relationship(
        back_populates="interface", cascade="all, delete-orphan", order_by="IpAddress.id"
    )

    @property
    def label(self) -> str:
        return f"{self.device.name}:{self.name}"


class IpAddress(Base):
    __tablename__ = "ip_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    interface_id: Mapped[int] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64), unique=True)  # host address without prefix
    prefix_len: Mapped[int]

    interface: Mapped[Interface] = relationship(back_populates="addresses")

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_len}"


class Cable(Base):
    __tablename__ = "cables"

    id: Mapped[int] = mapped_column(primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"), unique=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # dac, aoc, fiber, cat6, serial
    length_m: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(64), unique=True)

    a: Mapped[Interface] = relationship(foreign_keys=[a_id])
    b: Mapped[Interface] = relationship(foreign_keys=[b_id])

    def far_end(self, interface: Interface) -> Interface:
        return self.b if interface.id == self.a_id else self.a
