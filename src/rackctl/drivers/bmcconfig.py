"""Value types of BMC-side configuration: firmware components and update tasks, BIOS attributes and
their registry, BMC accounts, virtual media slots. Drivers return these; no vendor object leaks out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The component kinds a profile's firmware baseline names; "other" is everything else a BMC lists.
COMPONENT_KINDS = ("bmc", "bios", "cpld", "gpu", "nic", "psu", "other")


@dataclass(frozen=True)
class FirmwareComponent:
    """One firmware image a BMC reports: its own id and name, the kind rackctl classifies it as."""

    id: str
    name: str
    version: str
    kind: str = "other"
    updateable: bool = True
    uri: str = ""  # the SoftwareInventory's @odata.id: what SimpleUpdate's Targets name


@dataclass(frozen=True)
class UpdateService:
    """How a BMC takes firmware: SimpleUpdate (it fetches the image) and/or an HTTP push URI."""

    simple_update: str = ""  # the action's target; "" when the BMC has none
    protocols: tuple[str, ...] = ()  # TransferProtocol values it allows (empty: not listed)
    apply_times: tuple[str, ...] = ()  # @Redfish.OperationApplyTime values it takes (empty: not listed)
    multipart_uri: str = ""  # MultipartHttpPushUri (Redfish 2019.4+)
    push_uri: str = ""  # the older HttpPushUri (raw image body)


@dataclass(frozen=True)
class TaskStatus:
    """A Redfish task as last read: `done` once it ended, `ok` when it ended well."""

    uri: str
    state: str
    status: str = ""
    percent: int | None = None
    messages: tuple[str, ...] = ()
    done: bool = False
    ok: bool = False
    needs_reboot: bool = False  # ended, but the new image applies at the next host reset


@dataclass(frozen=True)
class AttributeSpec:
    """One BIOS attribute as the BMC's Attribute Registry describes it."""

    name: str
    type: str  # Enumeration, String, Integer, Boolean, Password
    values: tuple[str, ...] = ()
    read_only: bool = False
    lower: int | None = None
    upper: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class BiosState:
    """The BIOS attributes in effect, those staged for the next reset, and where they are described."""

    attributes: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] = field(default_factory=dict)  # only the staged values that differ
    registry: str = ""  # the AttributeRegistry the Bios resource names
    vendor: str = ""  # who made the machine, as the BMC reports it (Manufacturer)
    apply_times: tuple[str, ...] = ()  # @Redfish.Settings SupportedApplyTimes


@dataclass(frozen=True)
class BmcAccount:
    """One BMC user account (a Redfish ManagerAccount, an IPMI user slot)."""

    id: str
    username: str
    role: str = ""
    enabled: bool = True
    locked: bool = False


@dataclass(frozen=True)
class MediaSlot:
    """One virtual media device of a BMC."""

    id: str
    name: str = ""
    media_types: tuple[str, ...] = ()
    inserted: bool = False
    image: str = ""
    write_protected: bool | None = None

    @property
    def is_cd(self) -> bool:
        return any(kind.upper() in ("CD", "DVD") for kind in self.media_types)
