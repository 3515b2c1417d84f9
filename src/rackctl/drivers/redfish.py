"""Redfish BMCs through DMTF's python-redfish-library.

The session layer, which the capability mixins (firmware, BIOS, accounts, media) use through
`redfish_calls.RedfishCalls` (`_get`, `_send`, `_reply`, `_checked`, `_root`, `_members`): one driver
instance is one BMC for one command. Opening it costs the service root (read once, unauthenticated),
a Redfish session where the BMC offers SessionService (else HTTP Basic, with no extra round trip to test
it) and the Systems collection; every request after that reuses the same keep-alive HTTPS connection
(the library's requests.Session), and closing it logs the session out, also when opening the operation
fails half-way (BMCs such as iDRAC run out of sessions). `power status` is three requests on a Basic-auth
BMC (root, Systems, the system), five with a session (+ log in, log out). A 404 on a linked resource (no
Power, no LogService) means the BMC lacks it, not that something broke. Each operation reads the
system resource once and hands it on. Vendor differences live in `redfish_quirks` as data. Library
errors are translated in `_translated`, the only place that knows them.
"""

from __future__ import annotations

import base64
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

import requests
from redfish.rest import v1 as redfish_v1
from urllib3.exceptions import InsecureRequestWarning

from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers import redfish_tls as tls
from rackctl.drivers.base import BootSetting, HardwareInventory, LogEntry
from rackctl.drivers.redfish_accounts import RedfishAccounts
from rackctl.drivers.redfish_bios import RedfishBios
from rackctl.drivers.redfish_media import RedfishMedia
from rackctl.drivers.redfish_update import RedfishFirmware
from rackctl.errors import AuthError, CommandError, ConnectError, DriverError, Unsupported
from rackctl.types import BootDevice, Endpoint, Health, PowerAction, PowerState, SensorReading

MAX_PAGES = 100  # pages followed per collection; iDRAC pages its logs by 50 entries
_UNREACHABLE = (redfish_v1.ServerDownOrUnreachableError, redfish_v1.RetriesExhaustedError, requests.RequestException)

# NOTE(python-redfish-library 3.x): it logs a BMC's whole non-JSON answer (an HTML page) at ERROR and
# warns about session replies without a Location header; with no handler configured Python prints both
# on stderr. The driver reports these itself, as one line per target, and nothing below the CLI prints.
# Whether TLS is verified is the endpoint's `verify_tls`, so urllib3's per-request warning adds nothing.
logging.getLogger("redfish").addHandler(logging.NullHandler())
warnings.filterwarnings("ignore", module=r"redfish\.rest\.v1")
warnings.filterwarnings("ignore", category=InsecureRequestWarning)


@contextmanager
def _translated(where: str) -> Iterator[None]:
    try:
        yield
    except DriverError:
        raise
    except redfish_v1.InvalidCredentialsError:
        raise AuthError(f"{where}: the BMC refused the credentials") from None
    except _UNREACHABLE as exc:
        tls.raise_if_untrusted(where, exc)
        raise ConnectError(f"{where}: no usable answer from the BMC ({_first_line(exc)})") from None
    except (redfish_v1.JsonDecodingError, redfish_v1.DecompressResponseError, ValueError) as exc:
        raise CommandError(f"{where}: the BMC's answer is not valid Redfish JSON ({_first_line(exc)})") from None
    except (redfish_v1.SessionCreationError, redfish_v1.BadRequestError) as exc:
        raise CommandError(f"{where}: {_first_line(exc)}") from None
    except (KeyError, TypeError, IndexError) as exc:
        raise CommandError(f"{where}: unexpected resource layout ({type(exc).__name__}: {exc})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unlocated_session(address: str) -> CommandError:
    return CommandError(
        f"Redfish session to {address}: the BMC opened a session but its reply says neither where it is "
        "(no Location header, no @odata.id), so it cannot be logged out and lingers until it times out",
        hint='use HTTP Basic auth for this BMC: management options {"auth": "basic"}',
    )


class RedfishBmc(RedfishFirmware, RedfishBios, RedfishAccounts, RedfishMedia):
    """A Redfish BMC: power, boot override, sensors, log services, inventory, identify LED; and through
    its mixins firmware inventory and updates, BIOS attributes, accounts and virtual media."""

    protocol = "redfish"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: Any = None
        self._system: str = ""

    @staticmethod
    def answers(endpoint: Endpoint, timeout: float = 2.0) -> bool:
        """Whether a Redfish service root answers (no credentials needed), verified as a session would be."""
        with tls.session(endpoint) as http:
            try:
                reply = http.get(f"{tls.base_url(endpoint)}/redfish/v1/", timeout=timeout, verify=tls.verify(endpoint))
                return reply.status_code == 200 and "RedfishVersion" in reply.json()
            except requests.exceptions.SSLError as exc:  # Redfish is there, but not the BMC we trust: say so
                with suppress(ConnectError):  # no TLS at all there: not a Redfish service
                    tls.raise_if_untrusted(f"Redfish probe of {endpoint.address}", exc)
                return False
            except (requests.RequestException, ValueError):
                return False

    def __enter__(self) -> RedfishBmc:
        endpoint = self.endpoint
        verify = tls.verify(endpoint)
        try:
            with _translated(f"Redfish session to {endpoint.address}"):
                # NOTE(python-redfish-library 3.x): TLS is verified only when a CA file is given, and requests
                # are retried 10 times by default; the fan-out owns retries and deadlines, so no retries here.
                self._client = redfish_v1.redfish_client(
                    base_url=tls.base_url(endpoint),
                    username=endpoint.username,
                    password="",  # given to login() below, once the service root has shown who it is
                    cafile=verify if isinstance(verify, str) else None,
                    https_adapter=tls.https_adapter(endpoint),
                    timeout=endpoint.options.get("http_timeout", 10),
                    max_retry=0,
                )
                tls.refuse_plain_http(self._client, endpoint)
                self._login()
                self._system = self._find_system()
        except BaseException:
            self.__exit__(None, None, None)  # a session opened before the failure is still logged out
            raise
        return self

    def _login(self) -> None:
        root = self._client.root or {}
        sessions = quirks.link(quirks.field(root, "Links") or {}, "Sessions")
        # NOTE(sushy-tools emulator, older iLO/XCC firmware): no SessionService; HTTP Basic auth is the way in.
        user = self.endpoint.username
        password = self.endpoint.password.value if self.endpoint.password else ""
        if self.endpoint.options.get("auth") == "basic" or not root.get("SessionService") or not sessions:
            self._basic_auth()
            return
        try:
            self._client.login(user, password, auth="session")
        except redfish_v1.SessionCreationError:
            self._basic_auth()
        except KeyError:
            # NOTE(Dell PowerVault ME5024, OpenBMC 2018, Huawei iBMC): no Location header; the library then
            # takes the body's @odata.id, and fails when that is missing too.
            self._client.set_session_key(None)
            raise _unlocated_session(self.endpoint.address) from None
        if self._client.get_session_key() and not self._client.get_session_location():
            self._client.set_session_key(None)  # python-redfish-library < 3.3 keeps going without a location
            raise _unlocated_session(self.endpoint.address)

    def _basic_auth(self) -> None:
        # The library's login(auth="basic") first GETs the sessions collection to test the credentials: one
        # round trip per BMC per command for nothing, since the first real request answers 401 just the same.
        password = self.endpoint.password.value if self.endpoint.password else ""
        token = base64.b64encode(f"{self.endpoint.username}:{password}".encode()).decode()
        self._client.set_authorization_key(f"Basic {token}")

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            with suppress(Exception):  # logging out must never hide the operation's own error
                self._client.logout()
            self._client = None

    def _checked(self, reply: Any, where: str, path: str) -> None:
        if reply.status == 401:
            raise AuthError(f"{where}: the BMC refused the credentials")
        if reply.status >= 400:
            raise CommandError(f"{where}: HTTP {reply.status} for {path} ({quirks.error_message(reply)})")

    def _get(self, path: str, where: str, optional: bool = False) -> dict[str, Any] | None:
        with _translated(where):
            reply = self._client.get(path)
        if reply.status == 404 and optional:
            return None
        self._checked(reply, where, path)
        with _translated(where):
            return dict(reply.dict)

    def _send(self, method: str, path: str, body: dict[str, Any], where: str) -> None:
        self._checked(self._reply(method, path, where, body), where, path)

    def _reply(
        self, method: str, path: str, where: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """One request and the library's reply as it came (status, headers, body), errors translated."""
        with _translated(where):
            if method == "get":
                return self._client.get(path, headers=headers)
            return getattr(self._client, method)(path, body=body, headers=headers)

    def _root(self) -> dict[str, Any]:
        return dict(self._client.root or {})

    def _linked(self, resource: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        """The resource a property links to; {} when there is no link or the link answers 404."""
        link = quirks.link(resource, key)
        return (self._get(link, where, optional=True) if link else None) or {}

    def _members(self, path: str, where: str) -> list[dict[str, Any]]:
        """A collection's members over all its pages; a page that repeats what came before ends it."""
        members: list[dict[str, Any]] = []
        seen: set[str] = set()
        page: str | None = path
        pages = 0
        while page and pages < MAX_PAGES:
            pages += 1
            collection = self._get(page, where, optional=True) or {}
            fresh = [m for m in collection.get("Members") or [] if isinstance(m, dict) and _key(m) not in seen]
            seen.update(_key(m) for m in fresh)
            members += fresh
            page = quirks.next_page(collection) if fresh else None
        return members

    def _find_system(self) -> str:
        wanted = self.endpoint.options.get("system_id") or ""
        members = quirks.member_paths(self._get("/redfish/v1/Systems", "systems") or {})
        if wanted:
            match = [m for m in members if m.rstrip("/").rsplit("/", 1)[-1] == wanted]
            if not match:
                raise CommandError(f"no system '{wanted}' on this BMC (it has {len(members)})")
            return match[0]
        if len(members) != 1:
            raise CommandError(f"this BMC serves {len(members)} systems: set the node's system id in the inventory")
        return members[0]

    def _system_resource(self) -> dict[str, Any]:
        return self._get(self._system, "system") or {}

    def power_state(self) -> PowerState:
        return quirks.power_state(self._system_resource().get("PowerState"))

    def set_power(self, action: PowerAction) -> None:
        system = self._system_resource()
        target, allowed = quirks.reset_action(system)
        reset_type = quirks.choose_reset_type(action, allowed)
        self._send("post", target, {"ResetType": reset_type}, f"power {action.value} ({reset_type})")

    def set_boot(self, device: BootDevice, persistent: bool = False, uefi: bool = True) -> None:
        body = {"Boot": quirks.boot_override(device, persistent, uefi)}
        self._send("patch", self._system, body, f"boot {device.value}")

    def boot_setting(self) -> BootSetting:
        return quirks.boot_setting(self._system_resource().get("Boot") or {})

    def identify(self, on: bool) -> None:
        system = self._system_resource()
        self._send("patch", self._system, quirks.identify_body(system, on), "identify")

    def _chassis(self, system: dict[str, Any]) -> list[dict[str, Any]]:
        paths = quirks.links(system, "Chassis") or quirks.member_paths(
            self._get("/redfish/v1/Chassis", "chassis", optional=True) or {}
        )
        found = [self._get(path, "chassis", optional=True) for path in paths]
        return [chassis for chassis in found if chassis]

    def _readings(self, chassis: list[dict[str, Any]]) -> list[SensorReading]:
        readings: list[SensorReading] = []
        for resource in chassis:
            readings += quirks.thermal_readings(self._linked(resource, "Thermal", "thermal"))
        return readings + self._power_readings(chassis)

    def _power_readings(self, chassis: list[dict[str, Any]]) -> list[SensorReading]:
        """PSUs and power draw only (the Power resource): all the inventory needs of the sensors."""
        return [r for resource in chassis for r in quirks.power_readings(self._linked(resource, "Power", "power"))]

    def sensors(self) -> list[SensorReading]:
        return self._readings(self._chassis(self._system_resource()))

    def _managers(self, system: dict[str, Any]) -> list[str]:
        return quirks.links(system, "ManagedBy") or quirks.member_paths(
            self._get("/redfish/v1/Managers", "managers", optional=True) or {}
        )

    def _log_services(self, system: dict[str, Any]) -> list[dict[str, Any]]:
        owners = [system, *(self._get(m, "manager", optional=True) or {} for m in self._managers(system))]
        services = []
        for owner in owners:
            members = quirks.member_paths(self._linked(owner, "LogServices", "log services"))
            services += [self._get(path, "log service", optional=True) or {} for path in members]
        if not services:
            raise Unsupported("this BMC has no Redfish log service")
        return services

    def _entry(self, member: dict[str, Any]) -> dict[str, Any]:
        if quirks.is_reference(member):
            return self._get(str(member["@odata.id"]), "log entry", optional=True) or {}
        return member

    def events(self) -> list[LogEntry]:
        entries: list[LogEntry] = []
        for service in self._log_services(self._system_resource()):
            link = quirks.link(service, "Entries")
            members = self._members(link, "log entries") if link else []
            entries += [quirks.log_entry(self._entry(m)) for m in members]
        return entries

    def clear_events(self) -> None:
        for service in self._log_services(self._system_resource()):
            target = quirks.action_target(service, "#LogService.ClearLog")
            if target:
                self._send("post", target, {}, "clear log")

    def _macs(self, system: dict[str, Any]) -> dict[str, str]:
        macs = {}
        for member in quirks.member_paths(self._linked(system, "EthernetInterfaces", "network interfaces")):
            nic = self._get(member, "network interface", optional=True) or {}
            mac = quirks.nic_mac(nic)
            if mac:
                macs[str(nic.get("Id") or member.rstrip("/").rsplit("/", 1)[-1])] = mac
        return macs

    def inventory(self, readings: list[SensorReading] | None = None) -> HardwareInventory:
        system = self._system_resource()
        managers = [self._get(m, "manager", optional=True) or {} for m in self._managers(system)[:1]]
        chassis = self._chassis(system)

        def identity(key: str) -> str:
            # NOTE(Supermicro and other SMBIOS-fed BMCs): the system's field may be blank or filler
            # while the chassis names it.
            candidates = (quirks.identity(resource.get(key)) for resource in [system, *chassis])
            return next((value for value in candidates if value), "")

        return HardwareInventory(
            manufacturer=identity("Manufacturer"),
            model=identity("Model"),
            serial=identity("SerialNumber"),
            bmc_firmware=str((managers[0] if managers else {}).get("FirmwareVersion") or "").strip(),
            bios_firmware=str(system.get("BiosVersion") or "").strip(),
            power_supplies=tuple(
                r.name for r in readings or self._power_readings(chassis) if r.kind == "psu" and r.state != "Absent"
            ),
            macs=self._macs(system),
        )


def _key(member: dict[str, Any]) -> str:
    return str(member.get("@odata.id") or member.get("Id") or sorted(member.items()))


def health_of(status: dict[str, Any] | None) -> Health:
    return quirks.health(status)
