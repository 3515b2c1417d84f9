"""IPMI BMCs over LAN (RMCP+, IPMI 2.0): power through rackctl's own RMCP+ client, the rest through pyghmi.

Power status and chassis control, the calls a fleet-wide fan-out makes a thousand times, go through
`rmcpplus` (one asyncio loop for every session of the process); sensors, SEL, boot device, FRU and
firmware through pyghmi, imported and logged on only when one of those is called. One method is one
request to the BMC (inventory reads the FRU and the SDR). pyghmi's exceptions are translated in
`translated`, the only place that knows them. pyghmi can stall inside a call, so the fan-out puts its
own deadline around every use of this driver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, TypeVar

from rackctl.drivers import rmcpplus
from rackctl.drivers.base import BootSetting, HardwareInventory, LogEntry
from rackctl.drivers.ipmi_accounts import IpmiAccounts
from rackctl.errors import AuthError, CommandError, ConnectError, DriverError, Unsupported
from rackctl.extras import missing_extra
from rackctl.types import BootDevice, Endpoint, Health, PowerAction, PowerState, SensorReading

T = TypeVar("T")

# Chassis Control command (IPMI v2.0, 28.3) data byte per action.
_CHASSIS_CONTROL = {
    PowerAction.OFF: 0x00,
    PowerAction.ON: 0x01,
    PowerAction.CYCLE: 0x02,
    PowerAction.RESET: 0x03,
    PowerAction.SOFT: 0x05,
}
_IDEMPOTENT = frozenset({PowerAction.OFF, PowerAction.ON, PowerAction.SOFT})  # resent on silence
# pyghmi's names (Set System Boot Options parameter 5); "optical" is the CD/DVD, virtual media included.
_BOOT_DEVICE = {BootDevice.PXE: "network", BootDevice.DISK: "hd", BootDevice.BIOS: "setup", BootDevice.CD: "optical"}
_BOOT_FROM_IPMI = {v: k for k, v in _BOOT_DEVICE.items()}
_HEALTH = {0: Health.OK, 1: Health.WARNING, 2: Health.CRITICAL, 4: Health.CRITICAL}
_SENSOR_KIND = {"Temperature": "temperature", "Fan": "fan", "Voltage": "voltage", "Current": "current"}
_AUTH_WORDS = ("password", "unauthorized", "unknown user", "invalid user", "rakp")
_FRU_CHUNK = 32
_DATA_LENGTH_EXCEEDED = 0xC8


def _pyghmi_errors() -> Any:
    from pyghmi import exceptions  # the oob extra; imported by the first call that needs pyghmi

    return exceptions


def _translate(exc: BaseException, where: str) -> DriverError:
    text = str(exc).strip()
    errors = _pyghmi_errors()
    if isinstance(exc, errors.IpmiException):
        code = getattr(exc, "ipmicode", 0)
        if any(word in text.lower() for word in _AUTH_WORDS):
            return AuthError(f"{where}: the BMC refused the credentials ({text})")
        if code:
            return CommandError(f"{where}: the BMC refused the request ({text}, code {code:#04x})")
        if not text or text == "None" or "timeout" in text.lower() or "no longer connected" in text:
            return ConnectError(f"{where}: no answer from the BMC")
        return CommandError(f"{where}: {text}")
    if isinstance(exc, errors.InvalidParameterValue):
        return Unsupported(f"{where}: {text}")
    if isinstance(exc, OSError):
        return ConnectError(f"{where}: {exc.strerror or exc}")
    return CommandError(f"{where}: {type(exc).__name__}: {text}")


@contextmanager
def translated(where: str) -> Iterator[None]:
    """The one place pyghmi's exceptions become rackctl's (the SOL console uses it too)."""
    try:
        yield
    except DriverError:
        raise
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, where) or exc from None
    except (OSError, AssertionError, AttributeError) as exc:
        raise _translate(exc, where) from None
    except Exception as exc:
        if not isinstance(exc, _pyghmi_errors().PyghmiException):
            raise
        raise _translate(exc, where) from None


def _checked(response: dict[str, Any], where: str) -> dict[str, Any]:
    if "error" in response:
        code = response.get("code", 0)
        raise CommandError(f"{where}: the BMC refused the request ({response['error']}, code {code:#04x})")
    return response


class IpmiBmc(IpmiAccounts):
    """An IPMI BMC: power, boot device, sensors, SEL, FRU/firmware inventory, identify LED; user slots."""

    protocol = "ipmi"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._pyghmi: Any = None
        password = endpoint.password.value if endpoint.password else ""
        self._rmcp = rmcpplus.Client(
            endpoint.address, endpoint.port or 623, endpoint.username.encode(), password.encode(), endpoint.address
        )

    def __enter__(self) -> IpmiBmc:
        try:
            self._rmcp.open()  # pyghmi's session opens at the first call that needs it: power never does
        except BaseException:
            self._rmcp.close()
            raise
        return self

    @property
    def _command(self) -> Any:
        """pyghmi's session, logged on at the first call that needs it."""
        if self._pyghmi is None:
            with translated(f"IPMI session to {self.endpoint.address}"):
                try:
                    self._pyghmi = self._logon()
                except AttributeError:
                    # NOTE(pyghmi 1.6): logons failing at the same time in one process can raise
                    # AttributeError ('Session' has no 'errormsg') instead of IpmiException; once more
                    # reports the real cause (usually the credentials).
                    self._pyghmi = self._logon()
        return self._pyghmi

    def _logon(self) -> Any:
        from pyghmi.ipmi import command as ipmi_command

        password = self.endpoint.password.value if self.endpoint.password else ""
        # NOTE(pyghmi 1.5/1.6): str credentials can hang a second session to the same BMC; bytes do not.
        return ipmi_command.Command(
            bmc=self.endpoint.address,
            userid=self.endpoint.username.encode(),
            password=password.encode(),
            port=self.endpoint.port or 623,
            keepalive=False,
        )

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._rmcp.close()
        if self._pyghmi is not None:
            with suppress(_pyghmi_errors().PyghmiException, OSError, AttributeError):
                self._pyghmi.ipmi_session.logout()  # the session is gone either way
            self._pyghmi = None

    def _call(self, where: str, fn: Callable[[], T]) -> T:
        with translated(where):
            return fn()

    def power_state(self) -> PowerState:
        # Get Chassis Status (IPMI v2.0, 28.2) directly: pyghmi's get_power first detects the OEM with an
        # extra Get Device ID round trip, which a fleet-wide status read pays a thousand times.
        return _power(self._rmcp.chassis_status())

    # PowerReadAsync: the same session and read as coroutines on the RMCP+ loop, for fleet-wide reads.
    event_loop = staticmethod(rmcpplus.Client.event_loop)

    async def greet_async(self, within: float) -> None:
        await self._closed_on_failure(self._rmcp.greet_async(within))

    async def open_async(self) -> None:
        await self._closed_on_failure(self._rmcp.open_async())

    async def _closed_on_failure(self, step: Awaitable[object]) -> None:
        try:
            await step
        except BaseException:  # cancelled at the deadline too: the session (and its link) goes
            self._rmcp.close()
            raise

    async def power_state_async(self) -> PowerState:
        return _power(await self._rmcp.chassis_status_async())

    def set_power(self, action: PowerAction) -> None:
        self._rmcp.chassis_control(_CHASSIS_CONTROL[action], idempotent=action in _IDEMPOTENT)

    def set_boot(self, device: BootDevice, persistent: bool = False, uefi: bool = True) -> None:
        target = _BOOT_DEVICE[device]
        self._call("boot device", lambda: self._command.set_bootdev(target, persist=persistent, uefiboot=uefi))

    def boot_setting(self) -> BootSetting:
        current = self._call("boot device", self._command.get_bootdev)
        uefi = {"UEFI": True, "BIOS": False}.get(current.get("uefimode", ""))
        return BootSetting(_BOOT_FROM_IPMI.get(current.get("bootdev", "")), bool(current.get("persistent")), uefi)

    def sensors(self) -> list[SensorReading]:
        return [_reading(s) for s in self._call("sensors", lambda: list(self._command.get_sensor_data()))]

    def events(self) -> list[LogEntry]:
        return [_event(e) for e in self._call("event log", lambda: list(self._command.get_event_log()))]

    def clear_events(self) -> None:
        self._call("clear event log", lambda: list(self._command.get_event_log(clear=True)))

    def identify(self, on: bool) -> None:
        self._call("identify", lambda: self._command.set_identify(on=on))

    def inventory(self, readings: list[SensorReading] | None = None) -> HardwareInventory:
        fru = self._call("FRU", self._read_fru)
        firmware = dict(self._call("firmware", lambda: list(self._command.get_firmware())))
        readings = self.sensors() if readings is None else readings
        psus = tuple(r.name.split()[0] for r in readings if r.kind == "psu" and r.state)
        return HardwareInventory(
            manufacturer=str(fru.get("Manufacturer") or fru.get("Board manufacturer") or ""),
            model=str(fru.get("Product name") or fru.get("Board product name") or ""),
            serial=str(fru.get("Serial Number") or fru.get("Board serial number") or ""),
            bmc_firmware=str(firmware.get("BMC Version", {}).get("version", "")),
            power_supplies=psus,
        )

    def _read_fru(self) -> dict[str, Any]:
        from pyghmi.ipmi import fru as ipmi_fru

        try:
            return ipmi_fru.FRU(ipmicmd=self._command, fruid=0).info or {}
        except _pyghmi_errors().IpmiException as exc:
            if _DATA_LENGTH_EXCEEDED not in (getattr(exc, "ipmicode", 0), _code_in_text(str(exc))):
                raise
        # NOTE(OpenIPMI lanserv 2.0): oversized FRU reads get 0xC8, which pyghmi does not back off on;
        # read in small chunks and let pyghmi parse the image.
        return ipmi_fru.FRU(rawdata=self._read_fru_chunks()).info or {}

    def _read_fru_chunks(self) -> bytes:
        info = _checked(self._command.raw_command(netfn=0x0A, command=0x10, data=[0]), "FRU size")
        size = info["data"][0] | info["data"][1] << 8
        image = bytearray()
        while len(image) < size:
            count = min(_FRU_CHUNK, size - len(image))
            offset = len(image)
            chunk = _checked(
                self._command.raw_command(netfn=0x0A, command=0x11, data=[0, offset & 0xFF, offset >> 8, count]),
                "FRU read",
            )["data"]
            if not chunk or chunk[0] == 0:
                break
            image.extend(chunk[1:])
        return bytes(image)


def _code_in_text(text: str) -> int:
    return _DATA_LENGTH_EXCEEDED if "length limit exceeded" in text.lower() else 0


def _reading(sensor: Any) -> SensorReading:
    kind = _SENSOR_KIND.get(sensor.type, "other")
    if sensor.type == "Power Supply":
        kind = "power" if sensor.units == "W" else "psu"
    value = float(sensor.value) if sensor.value is not None else None
    return SensorReading(
        name=sensor.name,
        kind=kind,
        value=value,
        unit=sensor.units or "",
        health=_HEALTH.get(sensor.health, Health.UNKNOWN),
        state=", ".join(sensor.states),
    )


def _event(entry: dict[str, Any]) -> LogEntry:
    return LogEntry(
        id=str(entry.get("record_id", "")),
        timestamp=str(entry.get("timestamp") or ""),
        severity=_HEALTH.get(entry.get("severity", 0), Health.UNKNOWN),
        message=f"{entry.get('component', '')}: {entry.get('event', '')}".strip(": "),
        sensor=str(entry.get("component", "")),
    )


def _power(chassis_status: bytes) -> PowerState:
    return PowerState.ON if chassis_status and chassis_status[0] & 0x01 else PowerState.OFF
