"""Devices, their lifecycle history, management endpoints and power supplies."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, StrEnumType, UtcDateTime, utcnow
from rackctl.types import DeviceRole, Face, MgmtProtocol, NodeState

if TYPE_CHECKING:
    from rackctl.inventory.models.devicetype import DeviceType
    from rackctl.inventory.models.hostkey import HostKey
    from rackctl.inventory.models.network import Interface
    from rackctl.inventory.models.power import PduOutlet, PowerFeed
    from rackctl.inventory.models.profile import Profile
    from rackctl.inventory.models.site import Rack


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    rack_id: Mapped[int | None] = mapped_column(ForeignKey("racks.id"))
    position: Mapped[int | None]  # lowest U occupied; None for 0U devices
    face: Mapped[Face] = mapped_column(StrEnumType(Face), default=Face.FRONT)
    device_type_id: Mapped[int] = mapped_column(ForeignKey("device_types.id"))
    role: Mapped[DeviceRole] = mapped_column(StrEnumType(DeviceRole))
    serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    asset_tag: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[NodeState] = mapped_column(StrEnumType(NodeState), default=NodeState.PLANNED)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"))
    power_feed_id: Mapped[int | None] = mapped_column(ForeignKey("power_feeds.id"))  # PDUs only
    # Switch platform for rendering (eos, nxos, cumulus, sonic, onyx), console ports etc.
    platform: Mapped[str | None] = mapped_column(String(32))
    # What the device last reported about itself (BMC inventory: firmware versions, model, when seen).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    rack: Mapped[Rack | None] = relationship(back_populates="devices")
    device_type: Mapped[DeviceType] = relationship()
    profile: Mapped[Profile | None] = relationship(back_populates="devices")
    power_feed: Mapped[PowerFeed | None] = relationship(back_populates="pdus")
    interfaces: Mapped[list[Interface]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="Interface.id"
    )
    power_ports: Mapped[list[PowerPort]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="PowerPort.id"
    )
    outlets: Mapped[list[PduOutlet]] = relationship(
        back_populates="pdu", cascade="all, delete-orphan", order_by="PduOutlet.number"
    )
    mgmt: Mapped[ManagementEndpoint | None] = relationship(back_populates="device", cascade="all, delete-orphan")
    history: Mapped[list[StateChange]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="StateChange.id"
    )
    host_keys: Mapped[list[HostKey]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="HostKey.id"
    )

    @property
    def units(self) -> range:
        """The rack units this device occupies (empty for 0U devices)."""
        if self.position is None:
            return range(0)
        return range(self.position, self.position + max(1, math.ceil(self.device_type.u_height)))

    def interface(self, name: str) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name), None)


class StateChange(Base):
    """One lifecycle transition of a device: kept forever."""

    __tablename__ = "state_changes"
    __changelog__ = False  # a record of what happened, not inventory

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    from_state: Mapped[NodeState | None] = mapped_column(StrEnumType(NodeState))
    to_state: Mapped[NodeState] = mapped_column(StrEnumType(NodeState))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(512), default="")

    device: Mapped[Device] = relationship(back_populates="history")


class ManagementEndpoint(Base):
    """How rackctl reaches a device out of band: a server's BMC, a PDU's SNMP agent, a switch's SSH."""

    __tablename__ = "management_endpoints"
    __table_args__ = (UniqueConstraint("address", "port"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), unique=True)
    protocol: Mapped[MgmtProtocol] = mapped_column(StrEnumType(MgmtProtocol), default=MgmtProtocol.AUTO)
    address: Mapped[str] = mapped_column(String(255))
    port: Mapped[int | None]
    username: Mapped[str] = mapped_column(String(64), default="")
    credential_ref: Mapped[str] = mapped_column(String(512), default="")  # env:NAME or file:/path
    # Protocol details that are not secrets: SNMP version and v3 protocols, netmiko device type ...
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verify_tls: Mapped[bool] = mapped_column(default=True)
    detected_protocol: Mapped[MgmtProtocol | None] = mapped_column(StrEnumType(MgmtProtocol))
    # Redfish system path when the BMC serves several systems (e.g. an emulator).
    system_id: Mapped[str | None] = mapped_column(String(128))

    device: Mapped[Device] = relationship(back_populates="mgmt")

    @property
    def effective_protocol(self) -> MgmtProtocol:
        if self.protocol == MgmtProtocol.AUTO and self.detected_protocol:
            return self.detected_protocol
        return self.protocol


class PowerPort(Base):
    """One power supply inlet of a device."""

    __tablename__ = "power_ports"
    __table_args__ = (UniqueConstraint("device_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))  # e.g. iec-60320-c20
    maximum_draw_w: Mapped[int | None]
    allocated_draw_w: Mapped[int | None]

    device: Mapped[Device] = relationship(back_populates="power_ports")
    outlet: Mapped[PduOutlet | None] = relationship(back_populates="power_port")
