"""rackctl's RMCP+ client against OpenIPMI's ipmi_sim, checked by ipmitool, and through a hostile relay.

ipmi_sim (an independent C implementation of the BMC side) checks the client's RAKP 3 and the integrity
and encryption of every request; ipmitool reads and sets the same chassis. The relay sits between the
client and ipmi_sim and rewrites answers the way an attacker on the management network could: the
client must refuse them (no state reported from a forged or downgraded answer), not act on them.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress

import pytest

from rackctl import fanout
from rackctl.drivers import rmcpplus
from rackctl.drivers.ipmi import IpmiBmc
from rackctl.drivers.rmcpplus import wire
from rackctl.errors import AuthError, ConnectError, Unsupported
from rackctl.lab import ipmi, processes
from rackctl.lab.plan import free_loopback
from rackctl.services import bmc as bmc_service
from rackctl.services import power
from rackctl.services.bmc import BmcTarget
from rackctl.types import Endpoint, MgmtProtocol, PowerAction, PowerState, Secret

PASSWORD = "s3cret-pw-$(x)"


@pytest.fixture(scope="module")
def bmc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ipmi_sim on a free loopback address; its address."""
    root = tmp_path_factory.mktemp("rmcpplus")
    address = free_loopback(ipaddress.IPv4Network("127.2.240.0/24"), 1, ipmi.IPMI_PORT)[0]
    script = ipmi.install_chassis_script(root)
    ipmi.prepare(ipmi.SimNode("n1"), root / "bmc", address, "admin", PASSWORD, script)
    pid = ipmi.start(root / "bmc")
    try:
        assert ipmi.wait_answering([address]) == []
        yield address
    finally:
        processes.stop([pid])


def client(address: str, port: int = 623, user: bytes = b"admin", password: str = PASSWORD) -> rmcpplus.Client:
    return rmcpplus.Client(address, port, user, password.encode(), address)


def ipmitool(address: str, *command: str) -> str:
    argv = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", address, "-U", "admin", "-E", *command]
    env = {"IPMI_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}  # -E: password from env, not argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True, env=env).stdout.strip()


def test_power_read_and_set_agree_with_ipmitool(bmc: str) -> None:
    driver = IpmiBmc(Endpoint("n1", bmc, 623, "ipmi", "admin", Secret(PASSWORD)))
    with driver:
        driver.set_power(PowerAction.ON)
        assert ipmitool(bmc, "chassis", "power", "status") == "Chassis Power is on"
        assert driver.power_state() == PowerState.ON
    ipmitool(bmc, "chassis", "power", "off")
    with driver:
        assert driver.power_state() == PowerState.OFF


@pytest.mark.parametrize(("user", "password"), [(b"admin", "wrong"), (b"nobody", PASSWORD), (b"", "")])
def test_wrong_credentials_are_an_auth_error(bmc: str, user: bytes, password: str) -> None:
    with pytest.raises(AuthError):
        client(bmc, user=user, password=password).open()


class Relay:
    """A UDP relay on its own loopback address that passes requests on and answers through `rewrite`."""

    def __init__(self, target: str, rewrite: Callable[[bytes], bytes | None]) -> None:
        self.address = free_loopback(ipaddress.IPv4Network("127.2.241.0/24"), 1, 623)[0]
        self.rewrite, self.target = rewrite, (target, 623)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((self.address, 623))
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client: tuple[str, int] | None = None
        self.stopping = False
        self.threads = [
            threading.Thread(target=self._forward, daemon=True),
            threading.Thread(target=self._answer, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _forward(self) -> None:
        with suppress(OSError):  # closed
            while not self.stopping:
                data, self.client = self.front.recvfrom(4096)
                self.back.sendto(data, self.target)

    def _answer(self) -> None:
        with suppress(OSError):
            while not self.stopping:
                data, _ = self.back.recvfrom(4096)
                changed = self.rewrite(data)
                if changed is not None and self.client is not None:
                    self.front.sendto(changed, self.client)

    def close(self) -> None:
        self.stopping = True
        for sock in (self.front, self.back):
            sock.close()


@pytest.fixture
def relay(bmc: str) -> Iterator[Callable[[Callable[[bytes], bytes | None]], Relay]]:
    started: list[Relay] = []

    def start(rewrite: Callable[[bytes], bytes | None]) -> Relay:
        started.append(Relay(bmc, rewrite))
        return started[-1]

    yield start
    for each in started:
        each.close()


def _session_packet(data: bytes) -> bool:
    return len(data) > 16 and data[4] == wire.AUTH_RMCP_PLUS and data[5] & 0x3F == wire.IPMI_MESSAGE


def _flip_last_byte_of_session_packets(data: bytes) -> bytes:
    return data[:-13] + bytes([data[-13] ^ 0x01]) + data[-12:] if _session_packet(data) else data


def _flip_payload_bit(data: bytes) -> bytes:
    return data[:20] + bytes([data[20] ^ 0x80]) + data[21:] if _session_packet(data) else data


def give_up_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call that can only end without an answer gives up after 2 s instead of 10 (set after the calls that
    must succeed, so a loaded machine cannot fail those)."""
    monkeypatch.setattr(rmcpplus, "CALL_TIMEOUT_S", 2.0)


@pytest.mark.parametrize("tamper", [_flip_last_byte_of_session_packets, _flip_payload_bit])
def test_a_tampered_answer_is_never_believed(
    relay: Callable[..., Relay], tamper: Callable[[bytes], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log-on passes through untouched; every session answer is altered: no power state comes back."""
    through = relay(tamper)
    session = client(through.address)
    session.open()
    give_up_sooner(monkeypatch)
    with pytest.raises(ConnectError):
        session.chassis_status()
    session.close()


def test_a_relay_offering_no_encryption_is_refused(relay: Callable[..., Relay]) -> None:
    """Open Session Response rewritten to claim 'no integrity, no confidentiality' (a downgrade)."""

    def downgrade(data: bytes) -> bytes:
        if len(data) >= 52 and data[4] == wire.AUTH_RMCP_PLUS and data[5] & 0x3F == wire.OPEN_RESPONSE:
            payload = bytearray(data[16:])
            payload[12 + 8 + 4] = payload[12 + 16 + 4] = 0  # integrity and confidentiality algorithms: none
            return data[:16] + bytes(payload)
        return data

    with pytest.raises(Unsupported):
        client(relay(downgrade).address).open()


def test_a_replayed_answer_is_dropped(relay: Callable[..., Relay], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every session answer after the first is swapped for the first one (a replay): only the first counts."""
    first: list[bytes] = []

    def replay(data: bytes) -> bytes:
        if _session_packet(data):
            first.append(data)
            return first[0]
        return data

    session = client(relay(replay).address)
    session.open()
    session.chassis_status()  # the first answer, genuine
    give_up_sooner(monkeypatch)
    with pytest.raises(ConnectError):
        session.chassis_status()
    session.close()


def test_nobody_answering_is_a_connect_error_within_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    give_up_sooner(monkeypatch)
    address = free_loopback(ipaddress.IPv4Network("127.2.242.0/24"), 1, 623)[0]
    with pytest.raises(ConnectError):
        client(address).open()


def test_a_fleet_wide_power_read_runs_on_the_rmcpplus_loop_and_each_bmc_gets_its_own_result(bmc: str) -> None:
    """services.bmc runs `power status` over IPMI BMCs as tasks on the RMCP+ loop (fanout_loop): the
    states agree with ipmitool, wrong credentials and a silent address are each their own result."""
    ipmitool(bmc, "chassis", "power", "on")
    silent = free_loopback(ipaddress.IPv4Network("127.2.243.0/24"), 1, 623)[0]
    targets = [
        BmcTarget(name, Endpoint(name, address, 623, "ipmi", "admin", Secret(password)), MgmtProtocol.IPMI)
        for name, address, password in (("good", bmc, PASSWORD), ("wrong", bmc, "wrong"), ("silent", silent, ""))
    ]
    threads: set[str] = set()
    options = fanout.Options(timeout=5, retries=0, progress=lambda r: threads.add(threading.current_thread().name))
    results = bmc_service.execute("power status", targets, bmc_service.with_driver(power.status), options)
    assert [r.target for r in results.results] == ["good", "wrong", "silent"]
    assert results.results[0].ok and results.results[0].value.before == PowerState.ON
    assert isinstance(results.results[1].error, AuthError)
    assert isinstance(results.results[2].error, ConnectError) and "does not answer" in results.results[2].message
    assert threads == {"rackctl-rmcpplus"}  # every result came from the loop: no thread per target
