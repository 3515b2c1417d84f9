"""Expected and observed state per layer: plain values the comparisons take.

Expected state is built from the inventory (`expect.py`); observed state comes from collectors
(`collect.py`: the host probe, BMC and switch drivers; the PDU collector when its driver lands). The
comparisons (`compare_*.py`) are pure functions of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rackctl.drivers.base import HardwareInventory, LogEntry
from rackctl.drivers.bmcconfig import FirmwareComponent
from rackctl.drivers.hostfacts import HostFacts, LldpNeighbor
from rackctl.types import Health, NodeState, PowerState

# ---- host -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BondPlan:
    name: str
    mode: str | None
    members: tuple[str, ...]
    mtu: int | None


@dataclass(frozen=True)
class NicPlan:
    name: str
    speed_mbps: int | None
    mtu: int | None
    sriov_vfs: int | None
    cabled: bool = True


@dataclass(frozen=True)
class HostExpected:
    device: str
    state: NodeState
    gpu_model: str | None = None
    gpu_count: int = 0
    nvidia_driver: str | None = None
    fabric_manager: str | None = None
    cuda: str | None = None
    dcgm: str | None = None
    kernel: str | None = None
    serving_runtime: str | None = None
    serving_unit: str | None = None
    serving_port: int | None = None
    bonds: tuple[BondPlan, ...] = ()
    nics: tuple[NicPlan, ...] = ()


FABRICMANAGER_UNIT = "nvidia-fabricmanager.service"
DCGM_UNIT = "nvidia-dcgm.service"
# NOTE(serving runtimes): the readiness path each one answers on.
HEALTH_PATHS = {"vllm": "/health", "sglang": "/health", "tgi": "/health", "triton": "/v2/health/ready"}


def health_url(expected: HostExpected) -> str:
    """The serving runtime's health check as seen from the host itself."""
    if not expected.serving_runtime or not expected.serving_port:
        return ""
    path = HEALTH_PATHS.get(expected.serving_runtime.lower(), "/health")
    return f"http://127.0.0.1:{expected.serving_port}{path}"


def host_units(expected: HostExpected) -> tuple[str, ...]:
    units = [FABRICMANAGER_UNIT] if expected.fabric_manager else []
    units += [DCGM_UNIT] if expected.dcgm else []
    units += [expected.serving_unit] if expected.serving_unit else []
    return tuple(units)


HostObserved = HostFacts

# ---- BMC --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BmcExpected:
    device: str
    state: NodeState
    serial: str | None = None
    model: str | None = None
    bmc_firmware: str | None = None
    bios_firmware: str | None = None
    firmware: dict[str, Any] = field(default_factory=dict)  # the profile's baseline: kind -> baseline.Wanted
    bios: dict[str, Any] = field(default_factory=dict)  # the profile's BIOS settings (intents, attributes)

    @property
    def reads(self) -> frozenset[str]:
        """What the BMC must be asked beyond the usual: its firmware components, its BIOS."""
        return frozenset(name for name, wanted in (("firmware", self.firmware), ("bios", self.bios)) if wanted)


@dataclass(frozen=True)
class BmcObserved:
    inventory: HardwareInventory | None = None
    power: PowerState = PowerState.UNKNOWN
    health: Health = Health.UNKNOWN
    events: tuple[LogEntry, ...] = ()
    firmware: tuple[FirmwareComponent, ...] | None = None  # read only when the profile names a baseline
    bios: Any = None  # services.bmc.bios.BiosRead, read only when the profile sets BIOS settings
    unreadable: dict[str, str] = field(default_factory=dict)  # "firmware"/"bios" -> why it could not be read


# ---- switch -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchExpected:
    """The switch's intended configuration, rendered by the switch engine (`rackctl switch render`)."""

    device: str
    platform: str
    intended: str


@dataclass(frozen=True)
class SwitchObserved:
    running: str  # the running configuration as the platform shows it (`show running-config`, ifupdown2 file)


# ---- cabling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkPlan:
    interface: str
    peer_device: str
    peer_interface: str


@dataclass(frozen=True)
class CablingExpected:
    device: str
    links: tuple[LinkPlan, ...] = ()


@dataclass(frozen=True)
class CablingObserved:
    """LLDP neighbours seen by the device, per local port (a port may see none)."""

    neighbors: tuple[LldpNeighbor, ...] = ()


# ---- PDU --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutletPlan:
    number: int
    feeds: str  # "gpu-r12-u03 PSU1"
    device_state: NodeState | None = None
    must_be_on: bool | None = None  # None: the plan does not say (device not energised yet)


@dataclass(frozen=True)
class PduExpected:
    device: str
    feed: str | None = None
    usable_w: float | None = None  # the PDU's rating after continuous-load derating
    outlets: tuple[OutletPlan, ...] = ()


@dataclass(frozen=True)
class PduObserved:
    outlets: dict[int, PowerState] = field(default_factory=dict)
    load_w: float | None = None


@dataclass(frozen=True)
class FeedPlan:
    """A rack's feeds: each feed's usable power and the PDUs on it (A/B redundancy is checked on it)."""

    rack: str
    usable_w: dict[str, float] = field(default_factory=dict)
    pdus: dict[str, tuple[str, ...]] = field(default_factory=dict)
