"""Parsing recorded device output (tests/data/switch/lldp) and the pure cabling comparison."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import DATA
from rackctl.drivers.base import Neighbour
from rackctl.drivers.lldp import parse_ibnetdiscover, parse_lldp_table, parse_lldpctl_json
from rackctl.errors import CommandError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services.cabling import check
from rackctl.services.cabling.compare import PlannedLink, SeenLink, canonical_port, compare

LLDP = DATA / "lldp"


def test_eos_and_nxos_lldp_tables_parse_with_ntc_templates() -> None:
    eos = parse_lldp_table(
        "arista_eos", "show lldp neighbors", (LLDP / "eos_show_lldp_neighbors.txt").read_text(), "sw"
    )
    assert eos[2] == Neighbour("sw", "Et3/1", "tg104.sjc.aristanetworks.com", "Ethernet3/2")
    nxos = parse_lldp_table(
        "cisco_nxos", "show lldp neighbors", (LLDP / "nxos_show_lldp_neighbors.txt").read_text(), "n"
    )
    assert [(n.port, n.neighbour_port) for n in nxos] == [
        ("mgmt0", "Fa1/0/10"),
        ("Eth1/1", "Ethernet1/1"),
        ("Eth1/2", "Ethernet1/2"),
        ("Eth1/2", "Ethernet1/3"),
    ]


def test_lldpctl_json_list_and_single_forms() -> None:
    host = parse_lldpctl_json((LLDP / "lldpctl_host.json").read_text(), "gpu-r12-u03")
    assert [(n.port, n.neighbour, n.neighbour_port) for n in host] == [
        ("ens1f0np0", "leaf-r12-a.fra1.example.net", "Ethernet1/1"),
        ("ens1f1np1", "leaf-r12-a.fra1.example.net", "Ethernet14/1"),
        ("eno1", "mgmt-r12", "swp17"),
    ]
    single = parse_lldpctl_json((LLDP / "lldpctl_cumulus_single.json").read_text(), "mgmt-r12")
    assert single == [Neighbour("mgmt-r12", "swp17", "gpu-r12-u03", "a0:88:c2:10:00:05", "eno1")]
    with pytest.raises(CommandError, match="did not print JSON"):
        parse_lldpctl_json("lldpctl: command not found", "x")


def test_ibnetdiscover_links_both_directions() -> None:
    links = parse_ibnetdiscover((LLDP / "ibnetdiscover.txt").read_text())
    assert Neighbour("MF0;ib-p1-1:MQM9700/U1", "4", "gpu-p1a-u03 mlx5_2", "1") in links
    assert Neighbour("gpu-p1a-u03 mlx5_0", "1", "MF0;ib-p1-1:MQM9700/U1", "1") in links
    assert len(links) == 6


def test_recorded_reports_map_to_inventory_names(cli: Callable[..., Any], db: Database) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("rack", "create", "p1", "-t", "h100-pod-2rack-ib", "-s", "fra1").exit_code == 0
    with db.transaction() as session:
        devices = queries.devices(session, ["gpu-r12-u03", "gpu-p1a-u03"])
        known = check.names(session, devices)
        links = check.planned(session, devices)
    host = check.resolve_lldp(parse_lldpctl_json((LLDP / "lldpctl_host.json").read_text(), "gpu-r12-u03"), known)
    fabric = check.resolve_ib(parse_ibnetdiscover((LLDP / "ibnetdiscover.txt").read_text()), known)
    findings = {(f.device, f.port): f for f in compare(links, host + fabric, {"gpu-r12-u03", "gpu-p1a-u03"})}
    assert findings[("gpu-r12-u03", "ens1f0np0")].ok
    assert findings[("gpu-r12-u03", "ens1f1np1")].message == (
        "gpu-r12-u03 ens1f1np1 is in leaf-r12-a Ethernet14/1; the plan says leaf-r12-b Ethernet1/1: move it"
    )
    assert findings[("gpu-p1a-u03", "ibp1")].ok  # mlx5_1 on switch port 2 = 1/1/2
    assert findings[("gpu-p1a-u03", "ibp2")].message == (
        "gpu-p1a-u03 ibp2 is in ib-p1-1 1/2/2; the plan says 1/2/1: move it"
    )
    assert findings[("gpu-p1a-u03", "ibp3")].message == (
        "ib-p1-1 1/2/2 has gpu-p1a-u03 ibp2 in it; the plan says gpu-p1a-u03 ibp3: move it"
    )
    assert findings[("gpu-p1a-u03", "ibp4")].status == "missing"


PLAN = [PlannedLink("gpu-r12-u03", "ens1f1np1", "leaf-r12-a", "Ethernet1/12")]


@pytest.mark.parametrize(
    ("seen", "status", "message"),
    [
        ([SeenLink("leaf-r12-a", "Et1/12", "gpu-r12-u03", "ens1f1np1")], "ok", "as planned"),
        (
            [SeenLink("leaf-r12-a", "Et1/14", "gpu-r12-u03", "ens1f1np1")],
            "moved",
            "gpu-r12-u03 ens1f1np1 is in leaf-r12-a Et1/14; the plan says Ethernet1/12: move it",
        ),
        (
            [SeenLink("gpu-r12-u03", "ens1f1np1", "leaf-r12-a", "Ethernet1/14")],
            "moved",
            "gpu-r12-u03 ens1f1np1 is in leaf-r12-a Ethernet1/14; the plan says Ethernet1/12: move it",
        ),
        (
            [SeenLink("leaf-r12-a", "Ethernet1/12", "gpu-r12-u05", "ens1f0np0")],
            "moved",
            "leaf-r12-a Ethernet1/12 has gpu-r12-u05 ens1f0np0 in it; the plan says gpu-r12-u03 ens1f1np1: move it",
        ),
        (
            [],
            "missing",
            "gpu-r12-u03 ens1f1np1: no link seen; the plan says leaf-r12-a Ethernet1/12: check the cable and optics",
        ),
    ],
)
def test_compare(seen: list[SeenLink], status: str, message: str) -> None:
    findings = compare(PLAN, seen, {"leaf-r12-a", "gpu-r12-u03"})
    assert [(f.status, f.message) for f in findings] == [(status, message)]


def test_compare_skips_unchecked_and_reports_unplanned() -> None:
    assert compare(PLAN, [], checked=set()) == []
    plan = [*PLAN, PlannedLink("gpu-r12-u05", "ens1f0np0", "leaf-r12-a", "Ethernet5/1")]
    seen = [SeenLink("leaf-r12-a", "Et9/1", "gpu-r12-u05", "ens1f1np1")]
    extra = [f for f in compare(plan, seen, {"leaf-r12-a"}) if f.status == "unexpected"]
    assert [f.message for f in extra] == [
        "gpu-r12-u05 ens1f1np1 is cabled to leaf-r12-a Et9/1, which the plan does not have"
    ]


def test_canonical_port() -> None:
    assert [canonical_port(p) for p in ("Et1/14", "Eth1/14", "Ethernet1/14", "Ma1", "Po12", "swp3")] == [
        "ethernet1/14",
        "ethernet1/14",
        "ethernet1/14",
        "management1",
        "port-channel12",
        "swp3",
    ]
