"""`rack create` from templates: what a shipped template builds (names, U, addresses, bonds, cables,
power), and templates that cannot be built refused whole."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import Conflict, NotFound, RackctlError, ValidationError
from rackctl.inventory import powermodel as pm
from rackctl.inventory.db import Database
from rackctl.inventory.models import Cable, Device, Interface, Profile, Rack
from rackctl.inventory.validate import validate
from rackctl.paths import shipped_dir
from rackctl.types import CoolingKind, DeviceRole, Face, InterfaceKind, MgmtProtocol, NodeState

H100 = (shipped_dir("rack_templates") / "h100-4node-air.yaml").read_text()
Counts = Callable[[], dict[str, int]]
Build = Callable[..., list[str]]


def _devices(session: Session, *racks: str) -> dict[str, Device]:
    query = select(Device).join(Rack).where(Rack.name.in_(racks))
    return {d.name: d for d in session.scalars(query)}


def _cables(session: Session) -> dict[str, str]:
    """Every cable as 'device:port' -> 'device:port', both directions."""
    ends: dict[str, str] = {}
    for cable in session.scalars(select(Cable)):
        ends[cable.a.label], ends[cable.b.label] = cable.b.label, cable.a.label
    return ends


@pytest.mark.parametrize(
    ("template", "racks", "devices"),
    [("h100-4node-air", ["r12"], 12), ("l40s-8node", ["r12"], 14), ("h100-pod-2rack-ib", ["r12a", "r12b"], 26)],
)
def test_every_shipped_template_builds_and_validates_clean(
    db: Database, build: Build, template: str, racks: list[str], devices: int
) -> None:
    assert build("r12", template) == racks
    with db.transaction() as session:
        found = _devices(session, *racks)
        checks = validate(session, list(found.values()))
    assert len(found) == devices
    assert [c for c in checks if not c.ok] == []
    assert {c.check for c in checks} >= {"u-space", "pdu-load", "feed-load", "redundancy", "cooling", "cabling"}


def test_h100_rack_names_positions_and_rack(db: Database, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        rack = session.scalars(select(Rack).where(Rack.name == "r12")).one()
        assert (rack.u_height, rack.power_capacity_kw, rack.cooling_kind, rack.cooling_limit_kw) == (
            42,
            50,
            CoolingKind.AIR,
            45,
        )
        assert (rack.site.name, rack.template) == ("fra1", "h100-4node-air")
        assert [(f.name, f.voltage, f.amperage, f.phases) for f in rack.feeds] == [
            ("A", 415, 100, 3),
            ("B", 415, 100, 3),
        ]
        placed = {d.name: (d.position, d.face, d.role) for d in rack.devices}
    assert placed == {
        "pdu-r12-a1": (None, Face.REAR, DeviceRole.PDU),
        "pdu-r12-a2": (None, Face.REAR, DeviceRole.PDU),
        "pdu-r12-b1": (None, Face.REAR, DeviceRole.PDU),
        "pdu-r12-b2": (None, Face.REAR, DeviceRole.PDU),
        "gpu-r12-u03": (3, Face.FRONT, DeviceRole.GPU_NODE),
        "gpu-r12-u11": (11, Face.FRONT, DeviceRole.GPU_NODE),
        "gpu-r12-u19": (19, Face.FRONT, DeviceRole.GPU_NODE),
        "gpu-r12-u27": (27, Face.FRONT, DeviceRole.GPU_NODE),
        "con-r12": (38, Face.FRONT, DeviceRole.CONSOLE_SERVER),
        "mgmt-r12": (39, Face.FRONT, DeviceRole.MGMT_SWITCH),
        "leaf-r12-b": (40, Face.FRONT, DeviceRole.LEAF),
        "leaf-r12-a": (41, Face.FRONT, DeviceRole.LEAF),
    }


def test_h100_devices_state_profile_platform_and_management(db: Database, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        devices = _devices(session, "r12")
        node = devices["gpu-r12-u03"]
        assert node.state == NodeState.PLANNED
        assert [(h.from_state, h.to_state, h.actor) for h in node.history] == [(None, NodeState.PLANNED, "tester")]
        assert node.history[0].reason == "created from template h100-4node-air"
        assert node.profile is not None and node.profile.name == "h100-inference"
        assert (node.profile.nvidia_driver, node.profile.cuda, node.profile.mtu) == ("570.133.20", "12.8", 9000)
        assert node.profile.extra["vlans"] == {"tenant": 100, "storage": 200, "management": 10}
        assert node.mgmt is not None
        assert (node.mgmt.protocol, node.mgmt.username, node.mgmt.credential_ref) == (
            MgmtProtocol.IPMI,
            "admin",
            "env:RACKCTL_BMC_PASSWORD",
        )
        assert {d.platform for d in devices.values() if d.role == DeviceRole.LEAF} == {"eos"}
        assert devices["mgmt-r12"].platform == "cumulus"
        pdu = devices["pdu-r12-a1"]
        assert (pdu.platform, pdu.mgmt.protocol, pdu.mgmt.options) == ("raritan", MgmtProtocol.SNMP, {"version": "2c"})
        assert pdu.power_feed is not None and pdu.power_feed.name == "A"
        assert len(session.scalars(select(Profile)).all()) == 1


def _addresses(session: Session, rack: str) -> tuple[dict[str, str], dict[str, str]]:
    devices = _devices(session, rack)
    mgmt = {n: d.mgmt.address for n, d in devices.items() if d.mgmt}
    host = {n: d.interface("bond0").addresses[0].cidr for n, d in devices.items() if d.role == DeviceRole.GPU_NODE}
    return mgmt, host


def test_address_pools_give_each_rack_its_own_subnets(db: Database, build: Build) -> None:
    build("r12")
    build("r13")
    with db.transaction() as session:
        mgmt12, host12 = _addresses(session, "r12")
        mgmt13, host13 = _addresses(session, "r13")
    assert mgmt12["pdu-r12-a1"] == "10.200.0.10"  # the pool's `first` defaults to .10
    assert sorted(mgmt12.values(), key=ipaddress.ip_address) == [f"10.200.0.{n}" for n in range(10, 22)]
    assert host12 == {f"gpu-r12-u{u:02d}": f"10.100.0.{10 + i}/26" for i, u in enumerate((3, 11, 19, 27))}
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.200.0.64/26") for a in mgmt13.values())
    assert all(ipaddress.ip_interface(a).network == ipaddress.ip_network("10.100.0.64/26") for a in host13.values())


def test_bonds_group_the_front_end_ports(db: Database, build: Build) -> None:
    build("r12", "l40s-8node")
    with db.transaction() as session:
        nodes = [d for d in _devices(session, "r12").values() if d.role == DeviceRole.GPU_NODE]
        assert len(nodes) == 8
        for node in nodes:
            bond = node.interface("bond0")
            assert bond is not None and (bond.kind, bond.mtu) == (InterfaceKind.BOND, 9000)
            assert [m.name for m in bond.members] == ["ens1f0np0", "ens1f1np1"]
            assert {m.mtu for m in bond.members} == {9000} and {m.speed_mbps for m in bond.members} == {100_000}
            assert node.interface("eno1").bond is None


def test_h100_cables_and_their_far_ends(db: Database, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        cables = session.scalars(select(Cable)).all()
        ends = _cables(session)
        labels = {c.label: (c.a.label, c.b.label, c.kind, c.length_m) for c in cables if c.label}
    # 8 front-end, 2 MLAG peer, 4 BMC, 4 host mgmt, 2 leaf mgmt, 1 console-server, 4 PDU, 4+2+1 serial
    assert len(cables) == 32
    assert Counter(c.kind for c in cables) == {"dac": 10, "cat6": 15, "serial": 7}
    assert ends["gpu-r12-u03:ens1f0np0"] == "leaf-r12-a:Ethernet1/1"
    assert ends["gpu-r12-u27:ens1f1np1"] == "leaf-r12-b:Ethernet4/1"
    assert ends["leaf-r12-a:Ethernet32/1"] == "leaf-r12-b:Ethernet32/1"
    assert ends["gpu-r12-u11:BMC"] == "mgmt-r12:swp2"
    assert ends["gpu-r12-u19:eno1"] == "mgmt-r12:swp19"
    assert ends["pdu-r12-b2:eth0"] == "mgmt-r12:swp48"
    assert ends["gpu-r12-u27:Serial"] == "con-r12:port4"
    assert ends["mgmt-r12:Console"] == "con-r12:port11"
    assert labels["r12-fe-2a"] == ("gpu-r12-u11:ens1f0np0", "leaf-r12-a:Ethernet2/1", "dac", 3.0)


def test_pod_template_spans_two_racks_with_cross_rack_infiniband(db: Database, build: Build) -> None:
    assert build("p1", "h100-pod-2rack-ib") == ["p1a", "p1b"]
    with db.transaction() as session:
        devices = _devices(session, "p1a", "p1b")
        ends = _cables(session)
        ib = [c for c in session.scalars(select(Cable)) if c.kind == "aoc"]
        mgmt_a, _ = _addresses(session, "p1a")
        mgmt_b, _ = _addresses(session, "p1b")
        switch_ports = {
            name: sorted(i.name for i in devices[name].interfaces if i.kind == InterfaceKind.INFINIBAND)
            for name in ("ib-p1-1", "ib-p1-2")
        }
        racks_of = {name: d.rack.name for name, d in devices.items()}
    assert (racks_of["ib-p1-1"], racks_of["ib-p1-2"]) == ("p1a", "p1b")
    assert len(ib) == 64  # eight nodes, eight NDR ports each
    assert ends["gpu-p1a-u03:ibp0"] == "ib-p1-1:1/1/1"
    assert ends["gpu-p1a-u03:ibp4"] == "ib-p1-2:1/1/1"
    assert ends["gpu-p1b-u27:ibp3"] == "ib-p1-1:1/16/2"  # node 8 of the pod, last port of the leaf
    cross_rack = [e for e in ends if e.startswith("gpu-p1b") and ends[e].startswith("ib-p1-1:")]
    assert len(cross_rack) == 16
    used = {ends[f"{n}:ibp{k}"].split(":")[1] for n in devices if n.startswith("gpu") for k in range(4)}
    assert len(used) == 32 and used <= set(switch_ports["ib-p1-1"])  # every port once, none twice
    assert ends["leaf-p1b-a:Ethernet1/1"] == "gpu-p1b-u03:ens1f0np0"  # front end stays in its rack
    assert max(map(ipaddress.ip_address, mgmt_a.values())) < min(map(ipaddress.ip_address, mgmt_b.values()))


def test_power_supplies_are_spread_over_feeds_pdus_and_phases(db: Database, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        devices = _devices(session, "r12")
        for node in (d for d in devices.values() if d.role == DeviceRole.GPU_NODE):
            outlets = [p.outlet for p in node.power_ports]
            assert all(o is not None for o in outlets)
            assert Counter(o.feed for o in outlets) == {"A": 3, "B": 3}
            assert len({o.pdu.name for o in outlets}) == 4  # both PDUs of each feed
            assert {o.type for o in outlets} == {"iec-60320-c19"}  # a C20 inlet takes a C19 outlet
        for switch in (d for d in devices.values() if d.role in (DeviceRole.LEAF, DeviceRole.MGMT_SWITCH)):
            assert {p.outlet.type for p in switch.power_ports} == {"iec-60320-c13"}  # C14 into C13
            assert sorted(p.outlet.feed for p in switch.power_ports) == ["A", "B"]
        pdus = [d for d in devices.values() if d.role == DeviceRole.PDU]
        loads = [pm.pdu_load_w(p) for p in pdus]
        phases = pm.phase_loads(pdus)
    assert max(loads) - min(loads) <= 300  # switches differ a little; the GPU nodes are spread evenly
    per_pdu: dict[str, list[float]] = {}
    for phase in phases:
        per_pdu.setdefault(phase.pdu, []).append(phase.watts)
    assert all(len(w) == 3 and max(w) - min(w) <= 1700 for w in per_pdu.values()), per_pdu  # one PSU at most


def _edit(old: str, new: str) -> str:
    assert old in H100, old
    return H100.replace(old, new, 1)


BAD = [
    (
        _edit("type: hgx-h100-8gpu\n", "type: hgx-b200-8gpu\n"),
        ValidationError,
        "field 'devices.4.type': unknown device type 'hgx-b200-8gpu'",
    ),
    (
        _edit("u: [3, 11, 19, 27]", "u: [3, 7]"),
        ValidationError,
        "field 'devices.4.u': gpu-r12-u07 at U7 overlaps gpu-r12-u03 (U3-U10)",
    ),
    (
        _edit("u: [3, 11, 19, 27]", "u: [3, 11, 19, 36]"),
        ValidationError,
        "field 'devices.4.u': gpu-r12-u36 needs U36-U43, rack r12 has 42U",
    ),
    (
        _edit("u: [3, 11, 19, 27]", "u: [3, 11, 19, 31]"),
        ValidationError,
        "field 'devices.5.u': con-r12 at U38 overlaps gpu-r12-u31 (U31-U38)",  # 8U from U31 reach U38
    ),
    (_edit('name: "gpu-{rack}-u{u:02d}"', 'name: "gpu-{rack}"'), Conflict, "device name 'gpu-r12' is already taken"),
    (_edit('name: "con-{rack}"', 'name: "leaf-{rack}-a"'), Conflict, "device name 'leaf-r12-a' is already taken"),
    (
        _edit("members: [ens1f0np0, ens1f1np1]", "members: [ens1f0np0, ens9f9]"),
        ValidationError,
        "field 'bonds.0.members': gpu-r12-u03 has no interface 'ens9f9'",
    ),
    (
        _edit('to: {device: "mgmt-{rack}", interface: "swp{i}"}', 'to: {device: "mgmt-{rak}", interface: "swp{i}"}'),
        ValidationError,
        "field 'cabling.3.to.device': unknown variable 'rak'",
    ),
    (
        _edit('to: {device: "mgmt-{rack}", interface: "swp{i}"}', 'to: {device: "oob-{rack}", interface: "swp{i}"}'),
        ValidationError,
        "field 'cabling.3': cable from gpu-r12-u03: no device 'oob-r12' in this template",
    ),
    (
        _edit(
            'to: {device: "mgmt-{rack}", interface: "swp{i}"}', 'to: {device: "mgmt-{rack}", interface: "swp{i + 60}"}'
        ),
        ValidationError,
        "field 'cabling.3': no interface mgmt-r12:swp61",
    ),
    (
        _edit('interface: "swp{i + 16}"}', 'interface: "swp{i}"}'),
        Conflict,
        "mgmt-r12:swp1 is cabled twice",
    ),
    (
        _edit('B: ["pdu-{rack}-b1", "pdu-{rack}-b2"]', 'B: ["pdu-{rack}-b1", "leaf-{rack}-b"]'),
        ValidationError,
        "field 'power.pdus.B': 'leaf-r12-b' is not a PDU of this template",
    ),
    (
        _edit("management: {network: 10.200.0.0/16, prefix: 26}", "management: {network: 10.200.0.0/26, prefix: 28}"),
        ValidationError,
        "field 'addressing.management': /28 gives 5 addresses from 10, 12 needed",
    ),
    (
        _edit("management: {network: 10.200.0.0/16, prefix: 26}", "management: {network: 10.200.0.0/33, prefix: 26}"),
        ValidationError,
        "field 'addressing.management': '10.200.0.0/33' does not appear to be an IPv4 or IPv6 network",
    ),
    (
        _edit("management: {network: 10.200.0.0/16, prefix: 26}", "management: {network: 10.200.0.0/16, prefix: 8}"),
        ValidationError,
        "field 'addressing.management': prefix /8 does not fit inside pool 10.200.0.0/16",
    ),
    (
        _edit(
            '    extra:\n      doca_release: "3.1.0"',
            '    extra:\n      serving: {image: "vllm/vllm-openai:latest"}\n      doca_release: "3.1.0"',
        ),
        ValidationError,
        "field 'profiles.h100-inference.extra.serving.image': extra.serving.image 'vllm/vllm-openai:latest' refused",
    ),
]


@pytest.mark.parametrize(("text", "error", "message"), BAD, ids=[m.split(": ")[-1][:40] for _, _, m in BAD])
def test_a_template_that_cannot_be_built_writes_nothing(
    build: Build, row_counts: Counts, text: str, error: type[RackctlError], message: str
) -> None:
    before = row_counts()
    with pytest.raises(error) as caught:
        build("r12", text)
    assert message in str(caught.value)
    if isinstance(caught.value, ValidationError):
        assert str(caught.value).startswith("test.yaml:")
    assert row_counts() == before


def test_an_existing_rack_or_an_unknown_site_is_refused(build: Build, row_counts: Counts) -> None:
    build("r12")
    before = row_counts()
    with pytest.raises(Conflict, match="rack 'r12' already exists"):
        build("r12")
    with pytest.raises(NotFound, match="no site named 'ams2'"):
        build("r14", site="ams2")
    assert row_counts() == before


def test_a_pool_with_no_free_subnet_left_is_refused(build: Build, row_counts: Counts) -> None:
    small = _edit(
        "management: {network: 10.200.0.0/16, prefix: 26}", "management: {network: 10.200.0.0/26, prefix: 26}"
    )
    build("r12", small)
    before = row_counts()
    with pytest.raises(ValidationError, match=re.escape("pool 10.200.0.0/26 has no 1 free /26 subnet")):
        build("r13", small)
    assert row_counts() == before


def test_interfaces_keep_their_device_type_speeds_and_kinds(db: Database, build: Build) -> None:
    build("p1", "h100-pod-2rack-ib")
    with db.transaction() as session:
        switch = session.scalars(select(Device).where(Device.name == "ib-p1-1")).one()
        node = session.scalars(select(Device).where(Device.name == "gpu-p1a-u03")).one()
        kinds = Counter(i.kind for i in switch.interfaces)
        assert kinds == {InterfaceKind.INFINIBAND: 64, InterfaceKind.BMC: 1, InterfaceKind.CONSOLE: 1}
        ib = [i for i in node.interfaces if i.kind == InterfaceKind.INFINIBAND]
        assert [(i.name, i.speed_mbps) for i in ib] == [(f"ibp{k}", 400_000) for k in range(8)]
        console = session.scalars(select(Interface).where(Interface.name == "Serial")).first()
        assert console is not None and console.kind == InterfaceKind.CONSOLE
