"""RMCP presence ping (ASF, UDP 623): whether an IPMI BMC answers at all, in one round trip.

A dead BMC then costs one short timeout instead of a full IPMI session setup with its retries.
Many targets are pinged at once from one socket.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterable

# RMCP header (version 6, no ACK, class ASF) + ASF presence ping (IANA 4542, type 0x80, tag, data length 0).
PRESENCE_PING = bytes([0x06, 0x00, 0xFF, 0x06, 0x00, 0x00, 0x11, 0xBE, 0x80, 0x00, 0x00, 0x00])
PONG_TYPE = 0x40


def ping_many(
    targets: Iterable[tuple[str, int]], timeout: float = 1.0, attempts: int = 3, window: int = 128
) -> set[tuple[str, int]]:
    """The (address, port) pairs that answered a presence ping within `timeout` seconds.

    Pings go out `window` at a time with the answers drained in between: a thousand pongs arriving at
    once overflow a default socket buffer and healthy BMCs would look dead.
    """
    pending = set(targets)
    answered: set[tuple[str, int]] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        grow_buffer(sock)
        for _ in range(attempts):
            missing = sorted(pending - answered)
            for start in range(0, len(missing), window):
                _send_all(sock, set(missing[start : start + window]))
                _wait_and_receive(sock, pending, answered, 0.002)
            deadline = time.monotonic() + timeout / attempts
            while answered != pending and (left := deadline - time.monotonic()) > 0:
                _wait_and_receive(sock, pending, answered, left)
            if answered == pending:
                break
    return answered


def grow_buffer(sock: socket.socket, size: int = 4 << 20) -> None:
    # SO_RCVBUFFORCE passes net.core.rmem_max when we may (root); otherwise take what SO_RCVBUF allows.
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
            return
        except OSError:
            continue


def _wait_and_receive(
    sock: socket.socket, pending: set[tuple[str, int]], answered: set[tuple[str, int]], wait: float
) -> None:
    ready, _, _ = select.select([sock], [], [], wait)
    if ready:
        _receive(sock, pending, answered)


def _send_all(sock: socket.socket, targets: set[tuple[str, int]]) -> None:
    for target in targets:
        try:
            sock.sendto(PRESENCE_PING, target)
        except OSError:
            continue  # unroutable: it simply never answers


def _receive(sock: socket.socket, pending: set[tuple[str, int]], answered: set[tuple[str, int]]) -> None:
    while True:
        try:
            data, source = sock.recvfrom(512)
        except (BlockingIOError, ConnectionRefusedError):
            return
        if _is_pong(data) and source in pending:
            answered.add(source)


def _is_pong(data: bytes) -> bool:
    return len(data) >= 9 and data[3] == 0x06 and data[8] == PONG_TYPE


def ping(address: str, port: int = 623, timeout: float = 1.0) -> bool:
    return (address, port) in ping_many([(address, port)], timeout)
