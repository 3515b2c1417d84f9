"""Device types: the hardware catalogue, in the shape of NetBox's devicetype-library."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, StrEnumType
from rackctl.types import InterfaceKind


class DeviceType(Base):
    __tablename__ = "device_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    manufacturer: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    u_height: Mapped[float] = mapped_column(default=1.0)
    is_full_depth: Mapped[bool] = mapped_column(default=True)
    airflow: Mapped[str | None] = mapped_column(String(32))
    weight_kg: Mapped[float | None]
    gpu_model: Mapped[str | None] = mapped_column(String(64))
    gpu_count: Mapped[int] = mapped_column(default=0)
    max_draw_w: Mapped[int | None]  # whole device; see draw_w
    inrush_w: Mapped[int | None]  # peak while powering on; defaults to draw_w
    rated_power_w: Mapped[int | None]  # PDUs: what the input may carry before derating
    # What each power supply can deliver (its nameplate); with a feed lost the survivors carry the load.
    psu_rating_w: Mapped[int | None]
    # How few supplies the vendor says it keeps running on, power-capped below its maximum draw (DGX H100: 3).
    psu_min_running: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(String(512))

    power_ports: Mapped[list[DeviceTypePowerPort]] = relationship(
        cascade="all, delete-orphan", order_by="DeviceTypePowerPort.id"
    )
    outlets: Mapped[list[DeviceTypeOutlet]] = relationship(cascade="all, delete-orphan", order_by="DeviceTypeOutlet.id")
    interfaces: Mapped[list[DeviceTypeInterface]] = relationship(
        cascade="all, delete-orphan", order_by="DeviceTypeInterface.id"
    )
    console_ports: Mapped[list[DeviceTypeConsolePort]] = relationship(
        cascade="all, delete-orphan", order_by="DeviceTypeConsolePort.id"
    )
    module_bays: Mapped[list[DeviceTypeModuleBay]] = relationship(
        cascade="all, delete-orphan", order_by="DeviceTypeModuleBay.id"
    )

    @property
    def draw_w(self) -> int:
        """Worst-case draw of the whole device in watts.

        An explicit `max_draw_w` wins; otherwise the power ports' maxima add up, as NetBox reads
        them (each port's figure is that port's share of the load).
        """
        if self.max_draw_w:
            return self.max_draw_w
        return sum(p.maximum_draw_w or 0 for p in self.power_ports)

    @property
    def power_on_draw_w(self) -> int:
        """Peak draw while powering on (fans at full speed, PSUs charging), for sequencing."""
        return self.inrush_w or self.draw_w


class _Component:
    id: Mapped[int] = mapped_column(primary_key=True)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("device_types.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))


class DeviceTypePowerPort(_Component, Base):
    __tablename__ = "device_type_power_ports"
    __table_args__ = (UniqueConstraint("device_type_id", "name"),)

    maximum_draw_w: Mapped[int | None]
    allocated_draw_w: Mapped[int | None]


class DeviceTypeOutlet(_Component, Base):
    __tablename__ = "device_type_outlets"
    __table_args__ = (UniqueConstraint("device_type_id", "name"),)

    feed_leg: Mapped[str | None] = mapped_column(String(8))
    power_port: Mapped[str | None] = mapped_column(String(64))


class DeviceTypeInterface(_Component, Base):
    __tablename__ = "device_type_interfaces"
    __table_args__ = (UniqueConstraint("device_type_id", "name"),)

    kind: Mapped[InterfaceKind] = mapped_column(StrEnumType(InterfaceKind))
    speed_mbps: Mapped[int | None]
    mgmt_only: Mapped[bool] = mapped_column(default=False)


class DeviceTypeConsolePort(_Component, Base):
    __tablename__ = "device_type_console_ports"
    __table_args__ = (UniqueConstraint("device_type_id", "name"),)

    server: Mapped[bool] = mapped_column(default=False)  # a console-server port, not a device's own


class DeviceTypeModuleBay(_Component, Base):
    __tablename__ = "device_type_module_bays"
    __table_args__ = (UniqueConstraint("device_type_id", "name"),)

    position: Mapped[str | None] = mapped_column(String(32))
