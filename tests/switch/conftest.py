"""Racks for the switch tests: a leaf pair of one platform built from tests/data/switch/templates."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.lab.netns import ensure_keys, links, namespaces, public_key, teardown
from rackctl.lab.switches import LinuxSwitch, fakenos_inventory, start_fakenos, start_linux_switches
from rackctl.services import hostkeys

DATA = Path(__file__).parent.parent / "data" / "switch"

# platform -> (leaf device type, node i's leaf port, peer link k's port, a port to break out)
VARIANTS = {
    "eos": ("arista-7060dx5-32", "Ethernet{i}/1", "Ethernet{31 + k}/1", "Ethernet29/1"),
    "nxos": ("cisco-n9k-c9332d-gx2b", "Ethernet1/{i}", "Ethernet1/{31 + k}", "Ethernet1/29"),
    "sonic": ("nvidia-sn4600c-sonic", "Ethernet{(i - 1) * 4}", "Ethernet{(62 + k) * 4}", "Ethernet112"),
    "cumulus": ("nvidia-sn5600", "swp{i}", "swp{31 + k}", "swp29"),
    "linux": ("nvidia-sn5600", "swp{i}", "swp{31 + k}", "swp29"),
}
RACKS = {"eos": "eo", "nxos": "nx", "sonic": "so", "cumulus": "cu", "linux": "lx"}


@pytest.fixture
def leaf_pair(cli: Callable[..., object], tmp_path: Path) -> Callable[[str], str]:
    """Create the test rack for a platform; returns the rack name (leaves leaf-RACK-a/b, nodes gpu-RACK-u03/u11)."""
    imported = cli("devicetype", "import", str(DATA / "devicetypes"))
    assert imported.exit_code == 0, imported.stderr

    def make(platform: str) -> str:
        leaf_type, port, peer, breakout = VARIANTS[platform]
        text = (DATA / "templates" / "leaf-pair.yaml").read_text()
        for key, value in {
            "platform": platform,
            "leaf_type": leaf_type,
            "port": port,
            "peer": peer,
            "breakout": breakout,
        }.items():
            text = text.replace(f"@{key}@", value)
        path = tmp_path / f"leaf-pair-{platform}.yaml"
        path.write_text(text)
        created = cli("rack", "create", RACKS[platform], "-t", str(path), "-s", "fra1")
        assert created.exit_code == 0, created.stderr
        return RACKS[platform]

    return make


def linux_leaves(prefix: str, ports: list[str], folder: Path) -> Iterator[tuple[dict[str, LinuxSwitch], Path]]:
    """The leaf pair (leaf-lx-a, leaf-lx-b) as lab Linux switches with the lab's client key; all torn down after."""
    keys = ensure_keys(folder / "keys")
    started: list[LinuxSwitch] = []
    try:
        started = start_linux_switches(prefix, [("leaf-lx-a", ports), ("leaf-lx-b", ports)], folder, keys)
        yield {s.host.name: s for s in started}, keys.client
    finally:
        teardown(prefix, [s.host.pid for s in started])
        assert not namespaces(prefix) and not links(prefix)


def set_endpoint(
    db: Database,
    name: str,
    address: str,
    port: int,
    username: str,
    options: dict[str, object],
    client_key: Path | None = None,
) -> None:
    """Point a switch's management endpoint at a lab peer; with the lab's `client_key`, pin the key the lab's
    switches present (the lab made it, as `rackctl lab up` pins it)."""
    with db.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == name)).one()
        assert device.mgmt is not None
        device.mgmt.address, device.mgmt.port, device.mgmt.username = address, port, username
        device.mgmt.options = options
        if client_key is not None:
            session.flush()
            kind, blob = public_key(ensure_keys(client_key.parent).host)
            hostkeys.pin_known(session, "tester", [device], kind, blob, "lab")


PASSWORD = "fakenos-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def fake_switches() -> Iterator[dict[str, int]]:
    ports = {"leaf-eo-a": _free_port(), "leaf-nx-a": _free_port()}
    recorded = DATA / "fakenos"
    inventory = fakenos_inventory(
        {
            "leaf-eo-a": {
                "platform": "arista_eos",
                "port": ports["leaf-eo-a"],
                "commands": {
                    "show running-config": (recorded / "eos_running_config.txt").read_text(),
                    "show lldp neighbors": (recorded / "eos_lldp_neighbors.txt").read_text(),
                },
            },
            "leaf-nx-a": {
                "platform": "cisco_nxos",
                "port": ports["leaf-nx-a"],
                "commands": {
                    "show running-config": (recorded / "nxos_running_config.txt").read_text(),
                },
            },
        },
        "admin",
        PASSWORD,
    )
    net = start_fakenos(inventory)
    try:
        yield ports
    finally:
        net.stop()


@pytest.fixture
def vendor_rack(
    fake_switches: dict[str, int],
    leaf_pair: Callable[[str], str],
    db: Database,
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str], str]:
    monkeypatch.setenv("RACKCTL_SWITCH_PASSWORD", PASSWORD)

    def make(platform: str) -> str:
        rack = leaf_pair(platform)
        set_endpoint(db, f"leaf-{rack}-a", "127.0.0.1", fake_switches[f"leaf-{rack}-a"], "admin", {})
        trusted = cli("trust", f"leaf-{rack}-a", "--yes")  # first contact, as a technician makes it
        assert trusted.exit_code == 0, trusted.stderr
        return rack

    return make
