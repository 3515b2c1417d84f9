"""One RMCP+ session with one BMC, on asyncio: log on (cipher suite 3), send IPMI commands, close.

Every step waits for a datagram that passes the checks in `wire` and drops anything else. The session
set-up is never retransmitted step by step (BMCs do not take a repeated RAKP 1 or 3 kindly): a step
that goes unanswered restarts the log-on with a new session id, until the caller's deadline. An IPMI
command is resent with a new sequence number only when it is idempotent (status reads, power on/off).
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rackctl.drivers.rmcpplus import wire
from rackctl.errors import AuthError, CommandError, ConnectError, Unsupported

T = TypeVar("T")
NETFN_CHASSIS, NETFN_APP = 0x00, 0x06
GET_CHANNEL_AUTH, SET_PRIVILEGE, CLOSE_SESSION = 0x38, 0x3B, 0x3C
FIRST_WAIT_S, LONGEST_WAIT_S = 0.5, 2.0  # silence before a resend or a new log-on; grows by half each time


class Link:
    """The datagrams of one BMC: what is sent to it, and the one answer a step is waiting for."""

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self._send = send
        self._waiting: tuple[Callable[[bytes], object], asyncio.Future[object]] | None = None

    def deliver(self, datagram: bytes) -> None:
        """A datagram from the BMC: the answer if it passes the waiting step's checks, else dropped."""
        if self._waiting is None or self._waiting[1].done():
            return
        parse, future = self._waiting
        try:
            future.set_result(parse(datagram))
        except wire.WireError:
            pass  # stale, forged or for someone else: keep waiting
        except wire.Refused as exc:
            future.set_exception(exc)

    async def ask(self, packet: bytes, parse: Callable[[bytes], T], wait: float) -> T:
        """Send `packet` and return the first answer `parse` accepts; TimeoutError after `wait` s."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        # A timer on the future, not asyncio.wait_for: that costs a task per step, a thousand sessions x 6.
        timer = loop.call_later(wait, _expire, future)
        self._waiting = (parse, future)
        try:
            self._send(packet)
            return await future  # type: ignore[return-value]
        finally:
            timer.cancel()
            self._waiting = None


def _expire(future: asyncio.Future[object]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


@dataclass
class Credentials:
    user: bytes
    password: bytes


class Session:
    """An RMCP+ session; `deadline` (time.monotonic()) bounds every call."""

    def __init__(self, link: Link, credentials: Credentials, where: str) -> None:
        self.link = link
        self.credentials = credentials
        self.where = where
        self._logon: wire.Logon | None = None
        self._keys: wire.Keys | None = None
        self._seq = 0
        self._inbound = 0  # the BMC's highest session sequence number seen: older ones are replays
        self._rq_seq = 0
        self._tag = 0
        self._privilege = wire.USER
        self._greeted = False

    @property
    def open(self) -> bool:
        return self._keys is not None

    async def greet(self, deadline: float) -> None:
        """Get Channel Authentication Capabilities until `deadline`: the BMC's first answer, and whether it
        offers IPMI v2.0. A fan-out uses it as the presence check, so a live BMC pays no separate ping."""
        if not self._greeted:
            await self._retrying(self._check_channel, deadline, resend=True)
            self._greeted = True

    async def log_on(self, deadline: float) -> None:
        """Channel capabilities (once), then open session and RAKP 1-4; again from the start after silence."""
        await self.greet(deadline)
        await self._retrying(self._set_up, deadline, resend=True)

    async def _retrying(self, step: Callable[[float], object], deadline: float, resend: bool) -> None:
        wait = FIRST_WAIT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectError(f"{self.where}: no answer from the BMC")
            try:
                await step(min(wait, left))  # type: ignore[misc]
                return
            except TimeoutError:
                if not resend:
                    raise ConnectError(f"{self.where}: no answer from the BMC") from None
                wait = min(wait * 1.5, LONGEST_WAIT_S)
            except wire.Refused as exc:
                raise _refusal(self.where, exc) from None

    async def _check_channel(self, wait: float) -> None:
        # NOTE(IPMI v2.0, 22.13): asked in v1.5 format with bit 7 set, so v1.5-only BMCs answer too.
        seq = self._next_rq_seq()
        request = wire.ipmi_request(NETFN_APP, GET_CHANNEL_AUTH, seq, bytes([0x8E, wire.ADMINISTRATOR]))

        def parse(packet: bytes) -> wire.Response:
            return wire.ipmi_response(wire.v15_message(packet), NETFN_APP, GET_CHANNEL_AUTH, seq)

        answer = await self.link.ask(wire.v15_packet(request), parse, wait)
        if answer.code != 0 or len(answer.data) < 4 or not answer.data[3] & 0x02:
            raise wire.Refused("the BMC offers no IPMI v2.0 (RMCP+) sessions", 0x11)

    async def _set_up(self, wait: float) -> None:
        role = wire.ADMINISTRATOR | wire.NAME_ONLY_LOOKUP
        console_sid = struct.unpack("<I", os.urandom(4))[0] | 1  # never 0, which means "no session"
        tag = self._next_tag()
        bmc_sid = await self.link.ask(
            wire.v20_packet(wire.OPEN_REQUEST, 0, 0, wire.open_session_request(tag, console_sid, wire.ADMINISTRATOR)),
            lambda p: wire.open_session_response(wire.v20_payload(p, wire.OPEN_RESPONSE), tag, console_sid),
            wait,
        )
        user, password = self.credentials.user, self.credentials.password
        logon = wire.Logon(user, password, role, console_sid, bmc_sid, wire.new_random())
        tag = self._next_tag()
        keys = await self.link.ask(
            wire.v20_packet(wire.RAKP1, 0, 0, logon.rakp1(tag)),
            lambda p: logon.check_rakp2(wire.v20_payload(p, wire.RAKP2), tag),
            wait,
        )
        tag = self._next_tag()
        await self.link.ask(
            wire.v20_packet(wire.RAKP3, 0, 0, logon.rakp3(tag, keys)),
            lambda p: logon.check_rakp4(wire.v20_payload(p, wire.RAKP4), tag, keys),
            wait,
        )
        self._logon, self._keys, self._seq, self._inbound = logon, keys, 0, 0

    async def command(
        self, netfn: int, command: int, data: bytes, deadline: float, idempotent: bool = True
    ) -> wire.Response:
        """One IPMI request in the session; CommandError for a completion code other than success."""
        answer = await self._ask(netfn, command, data, deadline, idempotent)
        if answer.code != 0:
            raise CommandError(f"{self.where}: the BMC refused the request (code {answer.code:#04x})")
        return answer

    async def raise_privilege(self, deadline: float) -> None:
        """Set Session Privilege Level (22.18) to Administrator, for commands above User (chassis control)."""
        if self._privilege < wire.ADMINISTRATOR:
            await self.command(NETFN_APP, SET_PRIVILEGE, bytes([wire.ADMINISTRATOR]), deadline)
            self._privilege = wire.ADMINISTRATOR

    async def _ask(self, netfn: int, command: int, data: bytes, deadline: float, idempotent: bool) -> wire.Response:
        if self._keys is None or self._logon is None:
            raise ConnectError(f"{self.where}: no session")
        keys, logon, rq_seq = self._keys, self._logon, self._next_rq_seq()
        message = wire.ipmi_request(netfn, command, rq_seq, data)

        def parse(packet: bytes) -> wire.Response:
            seq, plain = wire.unseal(keys, logon.console_sid, packet)
            if seq < self._inbound:  # equal is let through, as pyghmi does; rq_seq still has to match
                raise wire.WireError("a replayed or reordered answer")
            answer = wire.ipmi_response(plain, netfn, command, rq_seq)
            self._inbound = seq
            return answer

        wait = FIRST_WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            self._seq += 1
            try:
                return await self.link.ask(wire.seal(keys, logon.bmc_sid, self._seq, message), parse, min(wait, left))
            except TimeoutError:
                if not idempotent:
                    break  # sent once: whether it acted is unknown, and sending again could act twice
                wait = min(wait * 1.5, LONGEST_WAIT_S)
        raise ConnectError(f"{self.where}: no answer from the BMC")

    async def close(self, wait: float = 0.5) -> None:
        """Close Session (22.19); a BMC that does not answer drops the session at its own timeout."""
        if self._keys is None or self._logon is None:
            return
        try:
            await self._ask(
                NETFN_APP, CLOSE_SESSION, struct.pack("<I", self._logon.bmc_sid), time.monotonic() + wait, False
            )
        except ConnectError:
            pass
        finally:
            self._keys = self._logon = None

    def _next_rq_seq(self) -> int:
        self._rq_seq = (self._rq_seq + 1) & 0x3F
        return self._rq_seq

    def _next_tag(self) -> int:
        self._tag = (self._tag + 1) & 0xFF
        return self._tag


def _refusal(where: str, exc: wire.Refused) -> Exception:
    if exc.code in (0x09, 0x0D, 0x0F) or "password" in str(exc):
        return AuthError(f"{where}: the BMC refused the credentials ({exc})")
    if exc.code == 0x11:
        return Unsupported(f"{where}: {exc}")
    return CommandError(f"{where}: {exc}")
