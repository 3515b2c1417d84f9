"""The event loop every RMCP+ session of this process runs on, and the UDP sockets they share.

One daemon thread runs one asyncio loop; callers in other threads (the fan-out's workers) submit
coroutines and wait for their results with their own deadline. BMCs share sockets, up to PER_SOCKET
each, and every datagram is routed by its sender's address to that BMC's Link: a thousand sessions
cost a handful of file descriptors and one thread, not a thread and a socket each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import os
import socket
import threading
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any, TypeVar

from rackctl.drivers.rmcp import grow_buffer
from rackctl.drivers.rmcpplus.session import Link
from rackctl.errors import ConnectError, Timeout

T = TypeVar("T")
PER_SOCKET = 256
RECEIVE_BUFFER = 4 << 20  # a thousand answers arriving at once must not overflow it


class Router(asyncio.DatagramProtocol):
    """One UDP socket and the BMCs it talks to, by (address, port)."""

    def __init__(self) -> None:
        self.links: dict[tuple[str, int], Link] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        grow_buffer(transport.get_extra_info("socket"), RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        link = self.links.get(addr[:2])
        if link is not None:
            link.deliver(data)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (port unreachable) surface as silence, handled by each step's deadline."""


class Engine:
    """The loop thread and its routers; `link()` and `close()` run on the loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._routers: list[Router] = []
        self._opening: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[Any]] = set()
        thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="rackctl-rmcpplus")
        thread.start()

    async def link(self, address: str, port: int) -> tuple[Link, Router]:
        """A Link to the BMC at (address, port), on a socket that holds no other session with it."""
        peer = (await _resolve(address, port))[:2]
        # Every session of a fan-out asks at once: while a socket is being opened they all wait for that one
        # opening together (a lock would wake them one loop turn apiece, a thousand turns for a thousand BMCs).
        while (router := self._room_for(peer)) is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(self._open_router())
            await asyncio.shield(self._opening)
        transport = router.transport
        assert transport is not None
        link = Link(lambda packet: transport.sendto(packet, peer))
        router.links[peer] = link
        return link, router

    def _room_for(self, peer: tuple[str, int]) -> Router | None:
        return next((r for r in self._routers if peer not in r.links and len(r.links) < PER_SOCKET), None)

    async def _open_router(self) -> None:
        try:
            _, router = await self.loop.create_datagram_endpoint(Router, local_addr=("0.0.0.0", 0))
            self._routers.append(router)
        finally:
            self._opening = None

    def release(self, router: Router, link: Link) -> None:
        for peer, known in list(router.links.items()):
            if known is link:
                del router.links[peer]

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coroutine` on the loop and wait for it at most `timeout` seconds (then cancel it)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise Timeout(f"no answer within {timeout:g}s") from None

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run `coroutine` on the loop without waiting for it (closing sessions)."""
        if _running_loop() is self.loop:  # a task on the loop itself: no wake-up through the loop's pipe
            task = self.loop.create_task(coroutine)
            self._closing.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._closing.discard)
            return
        asyncio.run_coroutine_threadsafe(coroutine, self.loop)


async def _resolve(address: str, port: int) -> tuple[str, int]:
    with suppress(ValueError):
        return str(ipaddress.IPv4Address(address)), port  # a literal: no resolver thread hand-off
    try:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(address, port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise ConnectError(f"{address}: {exc}") from None
    return infos[0][4][:2]  # type: ignore[return-value]


_engine: tuple[int, Engine] | None = None
_starting = threading.Lock()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def engine() -> Engine:
    """This process's engine, started on first use (and again in a forked child, whose thread is gone)."""
    global _engine
    started = _engine
    if started is not None and started[0] == os.getpid():  # every session asks: no lock once it runs
        return started[1]
    with _starting:
        if _engine is None or _engine[0] != os.getpid():
            _engine = (os.getpid(), Engine())
        return _engine[1]
