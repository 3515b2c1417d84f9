"""`rackctl audit --layers switch,cabling` against real SSH peers: Linux-based switches (sshd in network
namespaces with an ifupdown2 file and an lldpctl stand-in) and an EOS CLI (fakenos, recorded outputs)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import linux_leaves, set_endpoint
from rackctl.inventory.db import Database
from rackctl.inventory.models import ManagementEndpoint, Profile
from rackctl.lab.personadata import lldp_json
from rackctl.lab.switches import LinuxSwitch
from rackctl.services.audit.jobs import SshAccess, build_plan
from rackctl.types import Layer

Cli = Callable[..., Any]
PREFIX = "rkas"
PORTS = ["swp1", "swp2", "swp31", "swp32"]
LEAVES = "leaf-lx-a,leaf-lx-b"


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, LinuxSwitch], Path]]:
    yield from linux_leaves(PREFIX, PORTS, tmp_path_factory.mktemp("audit-switches"))


def _planned_lldp(db: Database, switch: str, swap: tuple[str, str] | None = None) -> str:
    """lldpd's JSON with the neighbour the inventory cables to each port (two of them swapped)."""
    with db.transaction() as session:
        (job,) = build_plan(session, [switch], [Layer.CABLING], SshAccess()).switch_cabling
        return lldp_json(job.expected, swap)


@pytest.fixture
def lx(peers: tuple[dict[str, LinuxSwitch], Path], leaf_pair: Callable[[str], str], cli: Cli, db: Database) -> Cli:
    """The linux test rack; its leaves are lab switches running exactly the rendered intent."""
    switches, key = peers
    leaf_pair("linux")
    for name, switch in switches.items():
        set_endpoint(db, name, switch.host.address, 22, "root", switch.endpoint_options_for(key), key)
        switch.config_file.write_text(cli("switch", "render", name).stdout)
        switch.lldp_file.write_text(_planned_lldp(db, name))
    with db.transaction() as session:
        for endpoint in session.scalars(select(ManagementEndpoint)):
            endpoint.credential_ref = ""  # the lab switches take the lab's key
    return cli


def audit(cli: Cli, target: str, layers: str) -> tuple[int, dict[str, Any]]:
    result = cli("audit", target, "--layers", layers, "--format", "json")
    return result.exit_code, result.json()


def found(data: dict[str, Any], layer: str = "") -> list[tuple[str, str, str, str, str]]:
    rows = [f for f in data["findings"] if f["layer"] == layer or not layer]
    return [(f["device"], f["check"], f["subject"], f["expected"], f["observed"]) for f in rows]


def test_a_clean_linux_switch_lab_gives_zero_findings(lx: Cli) -> None:
    code, data = audit(lx, LEAVES, "switch,cabling")
    assert (code, data["findings"], data["not_audited"]) == (0, [], [])
    assert data["summary"] == {"devices": 2, "clean": 4, "drift": 0, "not_audited": 0, "findings": 0}


def test_a_ports_mtu_changed_behind_rackctls_back_is_found_and_fixed_by_a_push(
    lx: Cli, peers: tuple[dict[str, LinuxSwitch], Path]
) -> None:
    switch = peers[0]["leaf-lx-a"]
    text = switch.config_file.read_text()
    switch.config_file.write_text(text.replace("iface swp2\n    alias gpu-lx-u11 ens1f0np0\n    mtu 9216",
                                               "iface swp2\n    alias gpu-lx-u11 ens1f0np0\n    mtu 1500"))  # fmt: skip
    subprocess.run(["ip", "-n", switch.host.namespace, "link", "set", "swp2", "mtu", "1500"], check=True)
    code, before = audit(lx, LEAVES, "switch")
    assert code == 1
    assert found(before) == [("leaf-lx-a", "mtu", "swp2", "9216", "1500")]
    (finding,) = before["findings"]
    assert finding["severity"] == "critical" and finding["layer"] == "switch"
    assert finding["hint"] == (
        "leaf-lx-a swp2 has 'mtu 1500', the inventory's intent 'mtu 9216': rackctl switch diff/push leaf-lx-a"
    )
    diff = lx("switch", "diff", "leaf-lx-a").stdout
    assert "-    mtu 1500" in diff and "+    mtu 9216" in diff
    assert lx("switch", "push", "leaf-lx-a", "--yes").exit_code == 0
    code, after = audit(lx, LEAVES, "switch")
    assert code == 0
    fixed = lx("audit", "diff", str(before["run"]), str(after["run"]), "--json").json()["fixed"]
    assert [(f["device"], f["check"], f["subject"]) for f in fixed] == [("leaf-lx-a", "mtu", "swp2")]


def test_two_cables_swapped_are_found_through_the_switchs_lldp(
    lx: Cli, db: Database, peers: tuple[dict[str, LinuxSwitch], Path]
) -> None:
    peers[0]["leaf-lx-a"].lldp_file.write_text(_planned_lldp(db, "leaf-lx-a", swap=("swp1", "swp2")))
    code, data = audit(lx, LEAVES, "switch,cabling")
    assert code == 1
    assert found(data, "cabling") == [
        ("leaf-lx-a", "cable", "swp1", "gpu-lx-u03 ens1f0np0", "gpu-lx-u11 ens1f0np0"),
        ("leaf-lx-a", "cable", "swp2", "gpu-lx-u11 ens1f0np0", "gpu-lx-u03 ens1f0np0"),
    ]
    assert len(data["findings"]) == 2  # the switch layer is clean
    assert {f["hint"] for f in data["findings"]} == {
        "leaf-lx-a swp1 and swp2 are swapped: swap the two cables at gpu-lx-u03 ens1f0np0 and gpu-lx-u11 ens1f0np0"
    }


def test_an_unreachable_switch_is_not_audited_never_clean(lx: Cli, db: Database) -> None:
    set_endpoint(db, "leaf-lx-b", "127.0.0.1", 9, "root", {"device_type": "linux", "timeout": 2})
    code, data = audit(lx, LEAVES, "switch,cabling")
    assert code == 2 and data["findings"] == []
    not_audited = [(r["device"], r["layer"]) for r in data["not_audited"]]
    assert not_audited == [("leaf-lx-b", "switch"), ("leaf-lx-b", "cabling")]
    assert all(r["reason"].startswith("leaf-lx-b (127.0.0.1): ") for r in data["not_audited"])
    assert data["summary"] == {"devices": 2, "clean": 2, "drift": 0, "not_audited": 2, "findings": 0}


def test_bad_intent_leaves_that_switch_not_audited(leaf_pair: Callable[[str], str], cli: Cli, db: Database) -> None:
    leaf_pair("linux")
    with db.transaction() as session:
        profile = session.scalars(select(Profile).where(Profile.name == "roce-inference")).one()
        profile.extra = {**profile.extra, "vlans": {"tenant": 0, "storage": 301, "management": 30}}
    code, data = audit(cli, LEAVES, "switch")
    assert code == 2
    assert {r["reason"] for r in data["not_audited"]} == {
        "profile roce-inference: tenant VLAN 0 is out of range 2-4093 "
        "(VLAN 1 is the default VLAN and 4094 carries the MLAG peer link)"
    }


def test_eos_running_config_per_port_and_swapped_cables_from_show_lldp(
    vendor_rack: Callable[[str], str], cli: Cli
) -> None:
    vendor_rack("eos")
    code, data = audit(cli, "leaf-eo-a", "switch,cabling")
    assert code == 1 and data["not_audited"] == []
    assert [row for row in found(data, "switch") if row[2] == "Ethernet1/1"] == [
        ("leaf-eo-a", "description", "Ethernet1/1", "gpu-eo-u03 ens1f0np0", "old-node-03"),
        ("leaf-eo-a", "mtu", "Ethernet1/1", "9216", "1500"),
        ("leaf-eo-a", "channel-group", "Ethernet1/1", "1 mode active", "not set"),
        ("leaf-eo-a", "priority-flow-control", "Ethernet1/1", "on", "not set"),
        ("leaf-eo-a", "priority-flow-control", "Ethernet1/1", "priority 3 no-drop", "not set"),
        ("leaf-eo-a", "tx-queue", "Ethernet1/1", "3", "not set"),
        ("leaf-eo-a", "random-detect", "Ethernet1/1", _ECN, "not set"),
        ("leaf-eo-a", "switchport", "Ethernet1/1", "not set", "access vlan 300"),
    ]
    missing = {f["subject"] for f in data["findings"] if f["check"] == "config"}
    assert {"Port-Channel1", "Ethernet2/1", "mlag configuration"} <= missing and "Management1" not in missing
    cabling = [f for f in data["findings"] if f["layer"] == "cabling"]
    assert [(f["subject"], f["observed"]) for f in cabling] == [
        ("Ethernet1/1", "gpu-eo-u11 ens1f0np0"),
        ("Ethernet2/1", "gpu-eo-u03 ens1f0np0"),
    ]
    assert cabling[0]["hint"] == (
        "leaf-eo-a Ethernet1/1 and Ethernet2/1 are swapped: swap the two cables at gpu-eo-u03 ens1f0np0 and "
        "gpu-eo-u11 ens1f0np0"
    )


_ECN = "ecn minimum-threshold 150 kbytes maximum-threshold 1500 kbytes max-mark-probability 100"
