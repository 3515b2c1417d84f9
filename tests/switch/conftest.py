"""Racks for the switch tests: a leaf pair of one platform built from tests/data/switch/templates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Device

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


def set_endpoint(db: Database, name: str, address: str, port: int, username: str, options: dict[str, object]) -> None:
    """Point a switch's management endpoint at a lab peer."""
    with db.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == name)).one()
        assert device.mgmt is not None
        device.mgmt.address, device.mgmt.port, device.mgmt.username = address, port, username
        device.mgmt.options = options
