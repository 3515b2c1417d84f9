"""RMCP presence pings on an event loop: each BMC's answer as a future, so that work for the BMCs that
answer starts at their pong instead of after the slowest one (or a dead one's whole timeout).

Same pings and pacing as `rmcp.ping_many` (windows of pings, then resends to the silent), one socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from rackctl.drivers.rmcp import PRESENCE_PING, grow_buffer, is_pong

Target = tuple[str, int]


class _Pinger(asyncio.DatagramProtocol):
    def __init__(self, answers: dict[Target, asyncio.Future[bool]]) -> None:
        self.answers = answers
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        grow_buffer(transport.get_extra_info("socket"))

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = self.answers.get(addr[:2])
        if answer is not None and not answer.done() and is_pong(data):
            answer.set_result(True)

    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable: that BMC stays silent until the timeout."""


async def pinged(
    targets: Iterable[Target], timeout: float = 1.0, attempts: int = 3, window: int = 128
) -> dict[Target, asyncio.Future[bool]]:
    """Start pinging `targets` from the running loop: each future becomes True at the target's pong,
    False when `timeout` seconds pass without one."""
    loop = asyncio.get_running_loop()
    answers = {target: loop.create_future() for target in targets}
    transport, _ = await loop.create_datagram_endpoint(lambda: _Pinger(answers), local_addr=("0.0.0.0", 0))
    task = loop.create_task(_ping(transport, answers, timeout, attempts, window))
    task.add_done_callback(lambda _: transport.close())
    _running.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_running.discard)
    return answers


_running: set[asyncio.Task[None]] = set()


async def _ping(
    transport: asyncio.DatagramTransport,
    answers: dict[Target, asyncio.Future[bool]],
    timeout: float,
    attempts: int,
    window: int,
) -> None:
    for _ in range(attempts):
        silent = [target for target, answer in answers.items() if not answer.done()]
        if not silent:
            return
        for start in range(0, len(silent), window):
            for target in silent[start : start + window]:
                transport.sendto(PRESENCE_PING, target)
            await asyncio.sleep(0.002)  # let the answers in: a thousand at once overflow a socket buffer
        await asyncio.wait([answers[t] for t in silent], timeout=timeout / attempts)
    for answer in answers.values():
        if not answer.done():
            answer.set_result(False)
