"""A rack whose GPU nodes' BMCs are writable Redfish mockups on their own loopback addresses, with a profile
that names a firmware baseline (images made here, with their sha256) and BIOS settings."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from rackctl.inventory.db import Database
from rackctl.inventory.queries import device
from rackctl.lab.redfish_mockup import MockupServer
from rackctl.paths import shipped_dir
from tests.conftest import CliResult

REDFISH_DATA = Path(__file__).resolve().parent.parent / "data" / "redfish"
NODES = ("gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27")
PASSWORD = "secret"


def lab_image(folder: Path, component: str, version: str) -> tuple[Path, str]:
    """A firmware image in the lab's format (a JSON header, then padding) and its sha256."""
    data = json.dumps({"component": component, "version": version}).encode() + b"\0" * 4096
    path = folder / f"{component.lower()}-{version.replace(' ', '_')}.bin"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@dataclass
class Fleet:
    cli: Callable[..., CliResult]
    servers: dict[str, MockupServer]
    folder: Path
    images: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        return result.exit_code, json.loads(result.stdout)


def _template(folder: Path, firmware: dict[str, Any], bios: dict[str, Any]) -> Path:
    data = yaml.safe_load((shipped_dir("rack_templates") / "h100-4node-air.yaml").read_text())
    profile = data["profiles"]["h100-inference"]
    if firmware:
        profile["firmware"] = firmware
    if bios:
        profile["bios"] = bios
    path = folder / "bmc-config-rack.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _serve(folder: Path, username: str) -> MockupServer:
    """A mockup on a random free loopback address, port 8000 (plain HTTP): other suites run beside this one."""
    for _ in range(100):
        address = f"127.33.{random.randrange(1, 255)}.{random.randrange(1, 255)}"
        try:
            return MockupServer(folder, address, 8000, username=username, password=PASSWORD).start()
        except OSError:
            continue
    raise RuntimeError("no free loopback address for a mockup BMC")


@pytest.fixture
def fleet(
    cli: Callable[..., CliResult], db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Fleet]]:
    """`fleet(nodes=2, variant=..., firmware=..., bios=...)`: the rack r12, its first `nodes` GPU nodes on mockups."""
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    started: list[MockupServer] = []

    def build(
        nodes: int = 2,
        variant: str = "public-rackmount1",
        firmware: dict[str, Any] | None = None,
        bios: dict[str, Any] | None = None,
        username: str = "admin",
    ) -> Fleet:
        folder = tmp_path / "fleet"
        folder.mkdir(exist_ok=True)
        template = _template(folder, firmware or {}, bios or {})
        result = cli("rack", "create", "r12", "-t", str(template), "-s", "fra1")
        assert result.exit_code == 0, result.stderr
        servers = {}
        for node in NODES[:nodes]:
            server = _serve(REDFISH_DATA / variant, username)
            started.append(server)
            servers[node] = server
            args = ["--mgmt-address", server.address, "--mgmt-port", "8000", "--mgmt-protocol", "redfish"]
            result = cli("device", "set", node, *args, "--mgmt-username", username)
            assert result.exit_code == 0, result.stderr
        with db.transaction() as session:  # the mockups speak plain HTTP: the endpoints say so explicitly
            for node in servers:
                mgmt = device(session, node).mgmt
                assert mgmt is not None
                mgmt.options = {**(mgmt.options or {}), "scheme": "http"}
        return Fleet(cli, servers, folder)

    yield build
    for server in started:
        server.stop()


@dataclass
class IpmiNode:
    address: str
    folder: Path


@contextmanager
def _ipmi_sim(tmp_path: Path, username: str, firmware: tuple[int, int] = (1, 0)) -> Iterator[IpmiNode]:
    """One real OpenIPMI ipmi_sim (user slot 2: `username`, Get Device ID's firmware revision `firmware`) on
    its own loopback address; stopped after."""
    from rackctl.lab import ipmi, processes
    from rackctl.lab.plan import free_loopback

    root = tmp_path / "ipmi"
    script = ipmi.install_chassis_script(root)
    folder = root / "bmc"
    address = free_loopback(ipaddress.ip_network(f"127.36.{random.randrange(0, 256)}.0/24"), 1, ipmi.IPMI_PORT)[0]
    ipmi.prepare(ipmi.SimNode("gpu-r12-u03", firmware=firmware), folder, address, username, PASSWORD, script)
    pid = ipmi.start(folder)
    try:
        assert ipmi.wait_answering([address]) == [], (folder / "ipmi_sim.log").read_text()
        yield IpmiNode(address, folder)
    finally:
        processes.stop([pid])


@pytest.fixture
def ipmi_bmc(tmp_path: Path) -> Iterator[IpmiNode]:
    """ipmi_sim whose slot 2 is `admin`."""
    with _ipmi_sim(tmp_path, "admin") as node:
        yield node


@pytest.fixture
def ipmi_bmc_102(tmp_path: Path) -> Iterator[IpmiNode]:
    """ipmi_sim whose firmware revision is 1.02 (a minor revision below ten: BCD 0x02)."""
    with _ipmi_sim(tmp_path, "admin", (1, 2)) as node:
        yield node


@pytest.fixture
def ipmi_factory_bmc(tmp_path: Path) -> Iterator[IpmiNode]:
    """ipmi_sim whose slot 2 is Supermicro's factory account name, `ADMIN`."""
    with _ipmi_sim(tmp_path, "ADMIN") as node:
        yield node
