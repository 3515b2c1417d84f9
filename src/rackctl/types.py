"""Value types shared by the inventory, services and drivers.

Enum values are the exact strings stored in the database and shown to users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NodeState(StrEnum):
    """Lifecycle of a device from the plan to service."""

    PLANNED = "planned"
    RACKED = "racked"
    CABLED = "cabled"
    POWERED = "powered"
    PROVISIONED = "provisioned"
    VALIDATED = "validated"
    IN_SERVICE = "in-service"
    MAINTENANCE = "maintenance"
    FAILED = "failed"
    DECOMMISSIONED = "decommissioned"


# The bring-up path; any state may also move to maintenance, failed or decommissioned,
# and maintenance/failed may return to any bring-up state (after a repair).
BRINGUP_ORDER: tuple[NodeState, ...] = (
    NodeState.PLANNED,
    NodeState.RACKED,
    NodeState.CABLED,
    NodeState.POWERED,
    NodeState.PROVISIONED,
    NodeState.VALIDATED,
    NodeState.IN_SERVICE,
)
SIDE_STATES = frozenset({NodeState.MAINTENANCE, NodeState.FAILED, NodeState.DECOMMISSIONED})


def transition_allowed(current: NodeState, target: NodeState) -> bool:
    """Whether a device may move from `current` to `target`."""
    if current == target:
        return False
    if current == NodeState.DECOMMISSIONED:
        return target == NodeState.PLANNED
    if target in SIDE_STATES or current in SIDE_STATES:
        return True
    # Forward one step at a time, or back to any earlier bring-up state (redo a step).
    cur, tgt = BRINGUP_ORDER.index(current), BRINGUP_ORDER.index(target)
    return tgt == cur + 1 or tgt < cur


class DeviceRole(StrEnum):
    GPU_NODE = "gpu-node"
    LEAF = "leaf"
    SPINE = "spine"
    IB_SWITCH = "ib-switch"
    MGMT_SWITCH = "mgmt-switch"
    PDU = "pdu"
    CONSOLE_SERVER = "console-server"
    STORAGE = "storage"


SWITCH_ROLES = frozenset({DeviceRole.LEAF, DeviceRole.SPINE, DeviceRole.IB_SWITCH, DeviceRole.MGMT_SWITCH})


class Face(StrEnum):
    FRONT = "front"
    REAR = "rear"


class InterfaceKind(StrEnum):
    ETHERNET = "ethernet"
    INFINIBAND = "infiniband"
    BMC = "bmc"
    CONSOLE = "console"
    BOND = "bond"


class MgmtProtocol(StrEnum):
    """How a device is managed out of band: BMCs speak IPMI or Redfish, PDUs SNMP, switches SSH."""

    IPMI = "ipmi"
    REDFISH = "redfish"
    AUTO = "auto"  # probe Redfish, then IPMI, and record what answered
    SNMP = "snmp"
    SSH = "ssh"


BMC_PROTOCOLS = frozenset({MgmtProtocol.IPMI, MgmtProtocol.REDFISH, MgmtProtocol.AUTO})


class CoolingKind(StrEnum):
    AIR = "air"
    REAR_DOOR = "rear-door"
    LIQUID = "liquid"


class PowerState(StrEnum):
    ON = "on"
    OFF = "off"
    UNKNOWN = "unknown"


class PowerAction(StrEnum):
    ON = "on"
    OFF = "off"
    SOFT = "soft"
    CYCLE = "cycle"
    RESET = "reset"


class BootDevice(StrEnum):
    PXE = "pxe"
    DISK = "disk"
    BIOS = "bios"
    CD = "cd"  # the virtual CD/DVD (rackctl media insert), or a physical optical drive


class Health(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


class Secret:
    """A secret whose value never shows in repr or str: a value, or a reader called at first use.

    `Secret.deferred(read)` lets a reference be resolved inside the per-target deadline, by whichever
    worker first needs the value, instead of when the endpoint is built (rackctl.secrets.deferred).
    """

    __slots__ = ("_read", "_value")

    def __init__(self, value: str | None = None, read: Callable[[], str] | None = None) -> None:
        if (value is None) == (read is None):
            raise TypeError("Secret takes a value or a reader")
        self._value, self._read = value, read

    @classmethod
    def deferred(cls, read: Callable[[], str]) -> Secret:
        return cls(read=read)

    @property
    def value(self) -> str:
        if self._value is None:
            assert self._read is not None
            self._value = self._read()
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self.value == other.value

    def __hash__(self) -> int:
        return hash(Secret)  # never derived from the value: a hash must not leak it or force a read

    def __repr__(self) -> str:
        return "Secret(***)"

    def __str__(self) -> str:
        return "***"

    def __reduce__(self) -> tuple[Any, ...]:
        # Forked or pickled workers get the same promise, not an early read.
        return (Secret, (self._value, None) if self._value is not None else (None, self._read))


@dataclass(frozen=True)
class Endpoint:
    """How to reach one management interface: what drivers take instead of a database row."""

    name: str
    address: str
    port: int | None = None
    protocol: str = ""
    username: str = ""
    password: Secret | None = None
    verify_tls: bool = True
    options: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SensorReading:
    name: str
    kind: str  # temperature, fan, power, voltage, current, psu, other
    value: float | None
    unit: str
    health: Health = Health.UNKNOWN
    state: str = ""  # discrete sensors: "Present, Power input lost"


@dataclass(frozen=True)
class FirmwareItem:
    component: str  # bmc, bios, nic:<name>, psu:<name> ...
    version: str


class Layer(StrEnum):
    """What a drift audit looks at: out of band, the host OS, switch config, cables, power."""

    BMC = "bmc"
    HOST = "host"
    SWITCH = "switch"
    CABLING = "cabling"
    PDU = "pdu"


class Severity(StrEnum):
    CRITICAL = "critical"  # the device cannot serve as planned
    WARNING = "warning"  # it serves, but not as planned
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One difference between the inventory's plan and what a device says, with what to do about it.

    `subject` names the part of the device (an interface, a GPU, an outlet) so that one check on two
    parts gives two findings; (device, layer, check, subject) identifies a finding across runs.
    """

    device: str
    layer: Layer
    check: str
    expected: str
    observed: str
    severity: Severity
    hint: str
    subject: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.device, self.layer.value, self.check, self.subject)
