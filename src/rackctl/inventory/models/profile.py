"""Profiles: the desired software and firmware of a set of devices."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base

if TYPE_CHECKING:
    from rackctl.inventory.models.device import Device

# The columns a profile file may set, in display order.
PROFILE_FIELDS = (
    "nvidia_driver",
    "cuda",
    "fabric_manager",
    "dcgm",
    "ofed",
    "container_toolkit",
    "serving_runtime",
    "serving_model",
    "serving_port",
    "tensor_parallel",
    "bmc_firmware",
    "bios_firmware",
    "bond_mode",
    "mtu",
    "sriov_vfs",
)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    nvidia_driver: Mapped[str | None] = mapped_column(String(32))
    cuda: Mapped[str | None] = mapped_column(String(32))
    fabric_manager: Mapped[str | None] = mapped_column(String(32))
    dcgm: Mapped[str | None] = mapped_column(String(32))
    ofed: Mapped[str | None] = mapped_column(String(32))
    container_toolkit: Mapped[str | None] = mapped_column(String(32))
    serving_runtime: Mapped[str | None] = mapped_column(String(32))
    serving_model: Mapped[str | None] = mapped_column(String(255))
    serving_port: Mapped[int | None]
    tensor_parallel: Mapped[int | None]
    bmc_firmware: Mapped[str | None] = mapped_column(String(64))
    bios_firmware: Mapped[str | None] = mapped_column(String(64))
    bond_mode: Mapped[str | None] = mapped_column(String(32))
    mtu: Mapped[int | None]
    sriov_vfs: Mapped[int | None]
    # Settings with no column of their own (burn-in floors, VLAN ids, serving flags).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The firmware baseline per component (version, image, sha256) and BIOS settings by intent;
    # their shape is checked where profiles are read (inventory/templates/schema.py).
    firmware: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    bios: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    devices: Mapped[list[Device]] = relationship(back_populates="profile")

    def as_dict(self) -> dict[str, Any]:
        values = {f: getattr(self, f) for f in PROFILE_FIELDS if getattr(self, f) is not None}
        structured = {key: getattr(self, key) for key in ("extra", "firmware", "bios") if getattr(self, key)}
        return {"name": self.name, **values, **structured}
