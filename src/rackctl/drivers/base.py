"""The capabilities drivers implement: one Protocol each.

A driver class lists the capabilities it implements; the same contract tests run against every
driver that claims one. One method is one round trip to the device and returns rackctl's value
types; vendor errors are translated to rackctl.errors in one place per driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rackctl.drivers.bmcconfig import (
    AttributeSpec,
    BiosState,
    BmcAccount,
    FirmwareComponent,
    MediaSlot,
    TaskStatus,
    UpdateService,
)
from rackctl.drivers.hostfacts import HostFacts
from rackctl.types import BootDevice, Health, PowerAction, PowerState, Secret, SensorReading

if TYPE_CHECKING:
    import asyncio


@dataclass(frozen=True)
class BootSetting:
    device: BootDevice | None
    persistent: bool
    uefi: bool | None


@dataclass(frozen=True)
class LogEntry:
    """One event: an IPMI SEL record or a Redfish LogService entry."""

    id: str
    timestamp: str
    severity: Health
    message: str
    sensor: str = ""


@dataclass(frozen=True)
class HardwareInventory:
    """What a BMC says about the machine it manages."""

    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    bmc_firmware: str = ""
    bios_firmware: str = ""
    power_supplies: tuple[str, ...] = ()
    macs: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Session(Protocol):
    """Every driver is a context manager: open on enter, always close (log out) on exit."""

    def __enter__(self) -> Session: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class PowerControl(Protocol):
    def power_state(self) -> PowerState: ...

    def set_power(self, action: PowerAction) -> None: ...


@runtime_checkable
class PowerReadAsync(Protocol):
    """The power state read as coroutines on the driver's own event loop (IPMI: the RMCP+ engine), so
    that a read over a thousand BMCs runs there as tasks (`fanout_loop`), not a thread per target."""

    @staticmethod
    def event_loop() -> asyncio.AbstractEventLoop: ...

    async def greet_async(self, within: float) -> None:
        """The BMC's first answer within `within` seconds (ConnectError if none): the fan-out's presence
        check, done as the first step of the session the read then opens."""

    async def open_async(self) -> None: ...

    async def power_state_async(self) -> PowerState: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


@runtime_checkable
class BootControl(Protocol):
    def set_boot(self, device: BootDevice, persistent: bool = False, uefi: bool = True) -> None: ...

    def boot_setting(self) -> BootSetting: ...


@runtime_checkable
class SensorReader(Protocol):
    def sensors(self) -> list[SensorReading]: ...


@runtime_checkable
class EventLog(Protocol):
    def events(self) -> list[LogEntry]: ...

    def clear_events(self) -> None: ...


@runtime_checkable
class FirmwareInventory(Protocol):
    def inventory(self, readings: list[SensorReading] | None = None) -> HardwareInventory:
        """What the BMC reports; `readings` from this session's `sensors()` spare reading them again."""
        ...


@runtime_checkable
class FirmwareReader(Protocol):
    """Every firmware component the BMC reports, with its version (Redfish FirmwareInventory; IPMI: the BMC)."""

    def firmware(self) -> list[FirmwareComponent]: ...


@runtime_checkable
class FirmwareUpdater(Protocol):
    """Staged firmware updates through the BMC: start one, follow its task, reset the BMC."""

    def update_service(self) -> UpdateService: ...

    def simple_update(self, image_uri: str, targets: Sequence[str], apply_time: str = "") -> str:
        """Ask the BMC to fetch and apply an image; returns the task to follow ("" when none)."""
        ...

    def push_update(self, name: str, data: bytes, targets: Sequence[str], apply_time: str = "") -> str:
        """Send the image to the BMC (multipart HTTP push); returns the task to follow ("" when none)."""
        ...

    def task_status(self, uri: str) -> TaskStatus: ...

    def reset_bmc(self) -> None: ...


@runtime_checkable
class BiosConfig(Protocol):
    """BIOS attributes: read current and pending, the BMC's attribute registry, stage changes."""

    def bios(self) -> BiosState: ...

    def bios_registry(self, name: str) -> dict[str, AttributeSpec]:
        """The attribute registry `name` as the BMC serves it; {} when it offers none."""
        ...

    def set_bios(self, attributes: Mapping[str, Any]) -> None:
        """Stage attributes in the settings object: they apply at the next reset."""
        ...


@runtime_checkable
class SecureBootControl(Protocol):
    """UEFI Secure Boot: whether it is enabled, and turning it on or off (at the next boot)."""

    def secure_boot(self) -> bool: ...

    def set_secure_boot(self, enabled: bool) -> None: ...


@runtime_checkable
class AccountControl(Protocol):
    """BMC user accounts: list them, set one's password."""

    def accounts(self) -> list[BmcAccount]: ...

    def password_policy(self) -> tuple[int, int]:
        """The shortest and the longest password the BMC takes."""
        ...

    def set_password(self, account_id: str, password: Secret) -> None: ...


@runtime_checkable
class VirtualMediaControl(Protocol):
    """Virtual media slots: read them, insert an image by URL, eject."""

    def media(self) -> list[MediaSlot]: ...

    def insert_media(self, slot: str, image_url: str) -> None: ...

    def eject_media(self, slot: str) -> None: ...


@runtime_checkable
class Identify(Protocol):
    def identify(self, on: bool) -> None: ...


@dataclass(frozen=True)
class OutletStatus:
    """One PDU outlet as the PDU reports it; `problem` says why its answer could not be used."""

    number: int
    state: PowerState
    name: str = ""
    problem: str = ""


@dataclass(frozen=True)
class PduIdentity:
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    firmware: str = ""


LEVELS = ("unit", "inlet", "line", "phase", "bank", "outlet")  # a PDU from its chain position down to an outlet
METRICS = ("current_a", "power_w", "apparent_va", "voltage_v", "energy_kwh", "power_factor", "rating_a")


@dataclass(frozen=True)
class Meter:
    """One metered point of a PDU: a unit of a chain, an inlet (cord), a line or phase, a bank or
    branch breaker, or an outlet. A metric is None where the PDU does not report it; `problems`
    names metrics the PDU answered but with a value that cannot be read (never shown as a zero);
    `sources` is the OID each metric was read from."""

    name: str
    current_a: float | None = None
    power_w: float | None = None
    level: str = "outlet"
    unit: int = 1
    number: int = 0  # the point's number in its level (outlet 5, phase 2), 0 where the MIB has none
    apparent_va: float | None = None
    voltage_v: float | None = None
    energy_kwh: float | None = None
    power_factor: float | None = None
    rating_a: float | None = None
    problems: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def metered(self) -> bool:
        return any(getattr(self, m) is not None for m in METRICS if m != "rating_a")


@dataclass(frozen=True)
class PduReadings:
    """What a PDU measures, point by point (`meters`); `switched` says whether it reported outlet
    states, `family` which MIB was read."""

    meters: tuple[Meter, ...] = ()
    switched: bool = False
    family: str = ""

    def level(self, name: str) -> tuple[Meter, ...]:
        return tuple(m for m in self.meters if m.level == name)

    @property
    def outlets(self) -> tuple[Meter, ...]:
        return self.level("outlet")

    @property
    def phases(self) -> tuple[Meter, ...]:
        return self.level("phase")

    @property
    def banks(self) -> tuple[Meter, ...]:
        return self.level("bank")

    @property
    def metered(self) -> bool:
        return any(m.metered for m in self.meters)

    @property
    def problems(self) -> list[str]:
        return [f"{m.level} {m.number or m.name}: {p}" for m in self.meters for p in m.problems]

    @property
    def total_power_w(self) -> float | None:
        """The PDU's own total: units' power, else inlets' (a chain adds its units)."""
        for level in ("unit", "inlet"):
            watts = [m.power_w for m in self.level(level) if m.power_w is not None]
            if watts:
                return sum(watts)
        return None

    @property
    def load_w(self) -> float | None:
        """The PDU's measured load: its own total, else the sum over phases, else over outlets."""
        if self.total_power_w is not None:
            return self.total_power_w
        for meters in (self.phases, self.outlets):
            watts = [m.power_w for m in meters if m.power_w is not None]
            if watts:
                return sum(watts)
        return None


@dataclass(frozen=True)
class PduProbe:
    """What `pdu probe` finds: the MIB family, identity, and how the PDU is built."""

    family: str
    mib: str
    vendor: str
    identity: PduIdentity
    units: int = 1
    outlets: int = 0
    phases: int = 0
    banks: int = 0
    switched: bool = False
    metered: bool = False
    sys_object_id: str = ""
    breakers: dict[str, float] = field(default_factory=dict)  # bank/OCP/branch name -> rating (A)


@runtime_checkable
class OutletControl(Protocol):
    """Switched PDU outlets: read their state (all, or the numbered ones) and switch one."""

    def outlets(self, numbers: Sequence[int] | None = None) -> list[OutletStatus]: ...

    def set_outlet(self, number: int, action: PowerAction) -> None: ...


@runtime_checkable
class PduMeter(Protocol):
    """A metered PDU: what it is, and its per-outlet, per-phase and per-bank current and power."""

    def identity(self) -> PduIdentity: ...

    def readings(self) -> PduReadings: ...

    def probe(self) -> PduProbe: ...


@dataclass(frozen=True)
class Neighbour:
    """One link as a device reports it: its own port and who it hears on it (LLDP, InfiniBand discovery)."""

    device: str  # the reporting device, as the inventory names it
    port: str
    neighbour: str  # the far device's system name (LLDP) or node description (InfiniBand)
    neighbour_port: str  # the far port id: a name, a MAC address or an InfiniBand port number
    neighbour_port_description: str = ""


@runtime_checkable
class SwitchConfig(Protocol):
    """Read, replace and roll back a switch's configuration through its platform's safe path.

    `apply` stages and activates a candidate (a configuration session, a checkpoint, a commit with a
    confirm timer); `confirm` makes it permanent; `rollback` returns to the configuration before `apply`.
    """

    def running_config(self) -> str: ...

    def apply(self, candidate: str) -> None: ...

    def verify(self) -> list[str]: ...

    def confirm(self) -> None: ...

    def rollback(self) -> None: ...


@runtime_checkable
class NeighbourReader(Protocol):
    def neighbours(self) -> list[Neighbour]: ...


@dataclass(frozen=True)
class ProbeRequest:
    """What a host probe should look at beyond the fixed facts: the ports to ask ethtool about,
    the systemd units to report, and the URL of the serving runtime's health check."""

    interfaces: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    health_url: str = ""


@runtime_checkable
class HostProbe(Protocol):
    def facts(self, request: ProbeRequest) -> HostFacts: ...
