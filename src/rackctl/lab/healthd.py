"""One process answering the serving runtime's health check inside many lab host namespaces.

    python3 -m rackctl.lab.healthd PORT NAMESPACE=PERSONA_FOLDER ...

For each namespace it binds 127.0.0.1:PORT inside that namespace (setns on a listening socket keeps
the socket there), then serves them all from one loop: HTTP 200 on /health and /v2/health/ready, 503
while the persona holds data/serving-down (the serving_down fault). It prints 'ready' once every
socket listens. A real HTTP peer for the probe's curl, at the cost of one process for the whole lab.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import socket
import sys
from pathlib import Path

CLONE_NEWNET = 0x40000000
HEALTH_PATHS = (b"/health", b"/v2/health/ready")


def _setns(fd: int) -> None:
    # Python 3.12 has os.setns; 3.11 reaches libc directly.
    setns = getattr(os, "setns", None)
    if setns is not None:
        setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


def listen_in(namespace: str, port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port inside the named network namespace."""
    with open(f"/var/run/netns/{namespace}") as target, open("/proc/self/ns/net") as home:
        _setns(target.fileno())
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(64)
        finally:
            _setns(home.fileno())
    sock.setblocking(False)
    return sock


def _answer(conn: socket.socket, persona: Path) -> None:
    conn.settimeout(2.0)
    try:
        request = conn.recv(4096)
        path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b""
        if path.split(b"?")[0] not in HEALTH_PATHS:
            status = b"404 Not Found"
        else:
            status = b"503 Service Unavailable" if (persona / "data" / "serving-down").exists() else b"200 OK"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    finally:
        conn.close()


def serve(port: int, personas: dict[str, Path]) -> None:
    selector = selectors.DefaultSelector()
    for namespace, folder in personas.items():
        selector.register(listen_in(namespace, port), selectors.EVENT_READ, folder)
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            try:
                conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            _answer(conn, key.data)


def main(argv: list[str]) -> None:
    port = int(argv[0])
    personas = {item.split("=", 1)[0]: Path(item.split("=", 1)[1]) for item in argv[1:]}
    serve(port, personas)


if __name__ == "__main__":
    main(sys.argv[1:])
