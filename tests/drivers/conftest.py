"""Recorded Redfish services served over real HTTP on loopback, one server per simulated BMC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rackctl.lab.redfish_mockup import MockupServer
from rackctl.types import Endpoint, Secret

REDFISH_DATA = Path(__file__).resolve().parent.parent / "data" / "redfish"
PASSWORD = "secret"


@pytest.fixture
def mockup() -> Iterator[Callable[..., MockupServer]]:
    """Start a mockup server for a recorded variant (stopped after the test)."""
    servers: list[MockupServer] = []

    def start(variant: str = "public-rackmount1", address: str = "127.0.0.1", port: int = 0) -> MockupServer:
        server = MockupServer(REDFISH_DATA / variant, address=address, port=port, password=PASSWORD).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def endpoint_for() -> Callable[..., Endpoint]:
    """How the driver reaches a mockup server: `endpoint_for(server, password=..., **options)`."""

    def make(server: MockupServer, password: str = PASSWORD, **options: Any) -> Endpoint:
        return Endpoint(
            name="node",
            address=server.address,
            port=server.port,
            protocol="redfish",
            username="admin",
            password=Secret(password),
            verify_tls=False,
            options={"scheme": "http", **options},
        )

    return make
