"""Intent rules: both ends from one intent, and bad intent refused with one line before anything is pushed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Cable, Device, Interface, Profile


def _edit_profile(db: Database, name: str, **extra: Any) -> None:
    with db.transaction() as session:
        profile = session.scalars(select(Profile).where(Profile.name == name)).one()
        profile.extra = {**profile.extra, **extra}


def test_host_vars_agree_with_the_switch(cli: Callable[..., Any]) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    hostvars = cli("export", "ansible-inventory").json()["_meta"]["hostvars"]
    network = hostvars["gpu-r12-u03"]["rackctl_network"]
    assert network["mtu"] == 9000 and network["switch_mtu"] == 9216
    assert network["bonds"][0]["members"] == ["ens1f0np0", "ens1f1np1"]
    assert network["bonds"][0]["native_vlan"] == 100 and network["bonds"][0]["vlans"] == [200]
    assert network["vlan_interfaces"] == [{"name": "bond0.200", "parent": "bond0", "vlan": 200, "mtu": 9000}]
    links = {link["interface"]: link for link in network["links"]}
    assert links["ens1f1np1"] == {"interface": "ens1f1np1", "switch": "leaf-r12-b", "port": "Ethernet1/1", "channel": 1}
    assert "rackctl_network" not in hostvars["leaf-r12-a"]
    leaf = cli("switch", "render", "leaf-r12-b").stdout
    assert "interface Port-Channel1\n   description gpu-r12-u03 bond0\n   mtu 9216\n" in leaf
    assert (
        "interface Ethernet1/1\n   description gpu-r12-u03 ens1f1np1\n   mtu 9216\n   channel-group 1 mode active"
        in leaf
    )


def test_bond_across_leaves_without_mlag_is_refused(cli: Callable[..., Any], db: Database) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    with db.transaction() as session:
        leaf_a = session.scalars(select(Device).where(Device.name == "leaf-r12-a")).one()
        peer_ports = [i.id for i in leaf_a.interfaces if i.name in ("Ethernet31/1", "Ethernet32/1")]
        # Through the session, so the change log records it (it refuses bulk deletes).
        for cable in session.scalars(select(Cable).where(Cable.a_id.in_(peer_ports) | Cable.b_id.in_(peer_ports))):
            session.delete(cable)
    result = cli("switch", "render", "leaf-r12-a")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[0] == (
        "error: gpu-r12-u03 bond0: members on leaf-r12-a and leaf-r12-b, which are not an MLAG pair "
        "(no peer link cabled between them)"
    )
    assert cli("export", "ansible-inventory").exit_code == 2  # the host side is refused too


def test_vlan_out_of_range_is_refused(cli: Callable[..., Any], db: Database) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    _edit_profile(db, "h100-inference", vlans={"tenant": 100, "storage": 5000, "management": 10})
    result = cli("switch", "render", "leaf-r12-a")
    assert result.exit_code == 2
    assert "error: profile h100-inference: storage VLAN 5000 is out of range 2-4093" in result.stderr


def test_mtu_mismatch_is_refused(cli: Callable[..., Any], db: Database) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    _edit_profile(db, "h100-inference", switch_mtu=9000)
    result = cli("switch", "render", "leaf-r12-a")
    assert result.exit_code == 2
    assert "gpu-r12-u03 bond0: host MTU 9000 does not fit the switch MTU 9000 (9000 + 18 bytes of headers)" in (
        result.stderr
    )
    with db.transaction() as session:
        _edit_profile(db, "h100-inference", switch_mtu=9216)
        member = session.scalars(select(Interface).where(Interface.name == "ens1f1np1")).first()
        assert member is not None
        member.mtu = 1500
    result = cli("switch", "render", "leaf-r12-b")
    assert result.exit_code == 2
    assert "member ens1f1np1 has MTU 1500, the bond 9000" in result.stderr


def test_infiniband_leaf_intent(cli: Callable[..., Any]) -> None:
    assert cli("rack", "create", "p1", "-t", "h100-pod-2rack-ib", "-s", "fra1").exit_code == 0
    first, second = cli("switch", "render", "ib-p1-1").stdout, cli("switch", "render", "ib-p1-2").stdout
    assert "ib sm priority 15" in first and "ib sm priority 14" in second
    assert "ib partition pk_0001 pkey 0x0001\n" in first
    assert 'interface ib 1/1/1 description "gpu-p1a-u03 ibp0"\ninterface ib 1/1/1 speed ndr force\n' in first
