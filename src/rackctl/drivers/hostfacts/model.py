"""Value types for host facts: what the probe saw, nothing judged yet."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    bus_id: str = ""
    serial: str = ""
    uuid: str = ""
    fabric_state: str = ""  # NVLink fabric registration: Completed, In Progress, N/A
    fabric_status: str = ""


@dataclass(frozen=True)
class GpuReport:
    """nvidia-smi's view: driver, the CUDA version the driver supports, and the GPUs it can see."""

    driver_version: str = ""
    cuda_version: str = ""
    attached: int = 0
    gpus: tuple[Gpu, ...] = ()


@dataclass(frozen=True)
class BondMember:
    name: str
    mii_up: bool
    speed_mbps: int | None = None
    aggregator_id: str = ""
    actor_state: int | None = None  # LACP port state bits (63 = active, short timeout, in sync, collecting ...)
    partner_state: int | None = None
    partner_mac: str = ""


@dataclass(frozen=True)
class Bond:
    name: str
    mode: str  # short name: 802.3ad, active-backup, balance-rr ...
    mii_up: bool
    hash_policy: str = ""
    lacp_rate: str = ""
    aggregator_id: str = ""  # the active aggregator
    partner_mac: str = ""  # the switch (or MLAG pair) answering LACP on the active aggregator
    members: tuple[BondMember, ...] = ()


@dataclass(frozen=True)
class Nic:
    name: str
    mtu: int | None = None
    operstate: str = ""
    speed_mbps: int | None = None
    sriov_vfs: int | None = None
    master: str = ""  # the bond this port is enslaved to
    link_detected: bool | None = None


@dataclass(frozen=True)
class LldpNeighbor:
    interface: str  # the local port
    system_name: str
    port_id: str
    port_id_type: str = ""  # ifname, mac, local ...
    port_descr: str = ""
    chassis_id: str = ""


@dataclass(frozen=True)
class UnitState:
    name: str
    load: str
    active: str
    sub: str

    @property
    def running(self) -> bool:
        return self.active == "active"


@dataclass(frozen=True)
class DcgmHealth:
    overall: str  # Healthy, Warning, Failure
    incidents: tuple[str, ...] = ()


@dataclass(frozen=True)
class XidEvent:
    bus: str
    code: int
    line: str


@dataclass(frozen=True)
class HostFacts:
    """Everything one probe saw. Empty strings and None mean 'not seen', never 'fine'."""

    hostname: str = ""
    kernel: str = ""
    gpus: GpuReport | None = None
    smi_error: str = ""
    driver_loaded: str = ""
    driver_installed: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    units: dict[str, UnitState] = field(default_factory=dict)
    dcgm: DcgmHealth | None = None
    dcgm_error: str = ""
    xids: tuple[XidEvent, ...] = ()
    nics: dict[str, Nic] = field(default_factory=dict)
    bonds: dict[str, Bond] = field(default_factory=dict)
    lldp: tuple[LldpNeighbor, ...] | None = None
    lldp_error: str = ""
    serving_http: int | None = None  # HTTP status of the health check; 0 = no answer
    missing_tools: tuple[str, ...] = ()
