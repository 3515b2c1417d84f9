"""`validate`: racks built clean, then broken on purpose in the database, one fault at a time; the
failing check and its message say what is wrong."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.inventory import powermodel as pm
from rackctl.inventory.db import Database
from rackctl.inventory.models import Cable, Device, DeviceType, Interface, PduOutlet, PowerFeed, Rack
from rackctl.inventory.validate import Check, validate

Build = Callable[..., list[str]]
Breakage = Callable[[Session], None]


def _device(session: Session, name: str) -> Device:
    return session.scalars(select(Device).where(Device.name == name)).one()


def _rack(session: Session, name: str) -> Rack:
    return session.scalars(select(Rack).where(Rack.name == name)).one()


def _checks(db: Database, rack: str = "r12") -> list[Check]:
    with db.transaction() as session:
        return validate(session, list(_rack(session, rack).devices))


def _failed(db: Database, rack: str = "r12") -> list[Check]:
    return [c for c in _checks(db, rack) if not c.ok]


def _break(db: Database, breakage: Breakage) -> None:
    with db.transaction() as session:
        breakage(session)


def test_a_clean_rack_passes_every_check_with_its_figures(db: Database, build: Build) -> None:
    build("r12")
    checks = {(c.check, c.subject): c for c in _checks(db)}
    assert all(c.ok for c in checks.values())
    assert checks[("u-space", "r12")].message == "36U of 42U used"
    assert checks[("cooling", "r12")].message == "42.1 kW of heat, air cooling removes 45.0 kW"
    assert checks[("rack-power", "r12")].message == "42.1 kW against a contracted 50.0 kW"
    assert checks[("pdu-load", "pdu-r12-a1")].message == (
        "10.5 kW normal, 21.0 kW with the other feed lost, limit 36.2 kW (80%)"
    )
    assert checks[("feed-load", "r12/A")].message == (
        "21.1 kW normal, 42.1 kW with the other feed lost, limit 57.5 kW (80% of 71.9 kW)"
    )
    # NVIDIA's figures in the shipped type: 10.2 kW maximum, six 3.3 kW supplies, running on three.
    assert checks[("redundancy", "gpu-r12-u03")].message == (
        "with feed A lost, 10.2 kW on 3 supplies: 3.4 kW each, over their 3.3 kW rating;"
        " it runs power-capped to 9.9 kW (its vendor's minimum is 3 supplies)"
    )
    assert checks[("duplicates", "inventory")].message == "addresses, MACs and serials unique"
    gpu_cabling = [c for c in checks.values() if c.check == "cabling"]
    assert [c.subject for c in gpu_cabling] == ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"]


def _overlap(session: Session) -> None:
    _device(session, "leaf-r12-b").position = 41


def _overflow(session: Session) -> None:
    _device(session, "gpu-r12-u27").position = 37


def _small_pdus(session: Session) -> None:
    session.scalars(select(DeviceType).where(DeviceType.slug == "pdu-3ph-415v-63a-36")).one().rated_power_w = 12_000


def _small_feeds(session: Session) -> None:
    for feed in _rack(session, "r12").feeds:
        feed.amperage = 63  # normal load fits, the other feed's share does not


def _hot(session: Session) -> None:
    rack = _rack(session, "r12")
    rack.cooling_limit_kw, rack.power_capacity_kw = 30, 40


def _thin_outlet(session: Session) -> None:
    port = _device(session, "gpu-r12-u03").power_ports[0]
    assert port.outlet is not None
    port.outlet.rating_a = 2


def _loose_nic(session: Session) -> None:
    nic = _device(session, "gpu-r12-u03").interface("ens1f1np1")
    assert nic is not None
    session.delete(session.scalars(select(Cable).where((Cable.a_id == nic.id) | (Cable.b_id == nic.id))).one())


def _unplugged(session: Session) -> None:
    port = _device(session, "gpu-r12-u11").power_ports[5]
    assert port.outlet is not None
    port.outlet.power_port = None


def _supplies_of(watts: int) -> Breakage:
    """Supplies of `watts` on a type whose vendor says nothing about running on fewer of them."""

    def rate(session: Session) -> None:
        dtype = session.scalars(select(DeviceType).where(DeviceType.slug == "hgx-h100-8gpu")).one()
        dtype.psu_rating_w, dtype.psu_min_running = watts, None

    rate.__name__ = f"_supplies_of_{watts}"
    return rate


def _rated_unknown(session: Session) -> None:
    session.scalars(select(DeviceType).where(DeviceType.slug == "pdu-3ph-415v-63a-36")).one().rated_power_w = None


BREAKAGES = [
    (_overlap, "u-space", "r12", ["leaf-r12-", "share U41"]),
    (_overflow, "u-space", "r12", ["gpu-r12-u27 reaches U44 of a 42U rack"]),
    (_small_pdus, "pdu-load", "pdu-r12-a1", ["10.5 kW normal, 21.0 kW with the other feed lost, limit 9.6 kW (80%)"]),
    (
        _small_feeds,
        "feed-load",
        "r12/A",
        ["21.1 kW normal, 42.1 kW with the other feed lost, limit 36.2 kW (80% of 45.3 kW)"],
    ),
    (_hot, "cooling", "r12", ["42.1 kW of heat, air cooling removes 30.0 kW"]),
    (_hot, "rack-power", "r12", ["42.1 kW against a contracted 40.0 kW"]),
    (_thin_outlet, "outlet-load", "r12", ["pdu-r12-a1:25 14.2 A > 2 A"]),
    (_loose_nic, "cabling", "gpu-r12-u03", ["not cabled: ens1f1np1"]),
    (_unplugged, "redundancy", "gpu-r12-u11", ["not plugged in: PSU6"]),
    # Six 1,700 W supplies carry 10.2 kW while both feeds are up; with one lost, three carry it all.
    (
        _supplies_of(1700),
        "redundancy",
        "gpu-r12-u03",
        ["with feed A lost, 10.2 kW on 3 supplies: 3.4 kW each, over their 1.7 kW rating", "capped to 5.1 kW"],
    ),
    # NVIDIA's DGX H100 user guide: six 3.3 kW supplies for 10.2 kW, "4+2": one feed is not enough at full
    # power; without the vendor's word that it runs on three, that is an outage.
    (_supplies_of(3300), "redundancy", "gpu-r12-u27", ["3.4 kW each, over their 3.3 kW rating"]),
    (_rated_unknown, "pdu-load", "pdu-r12-b2", ["rating unknown (device type pdu-3ph-415v-63a-36)"]),
]


@pytest.mark.parametrize(
    ("breakage", "check", "subject", "words"), BREAKAGES, ids=[f"{b.__name__}-{c}" for b, c, _, _ in BREAKAGES]
)
def test_each_fault_fails_its_check(
    db: Database, build: Build, breakage: Breakage, check: str, subject: str, words: list[str]
) -> None:
    build("r12")
    _break(db, breakage)
    failed = {(c.check, c.subject): c.message for c in _failed(db)}
    assert (check, subject) in failed, failed
    assert all(word in failed[(check, subject)] for word in words), failed[(check, subject)]


def test_a_node_with_both_supplies_on_feed_a(db: Database, build: Build) -> None:
    build("r13", "l40s-8node")

    def move_psu2_to_feed_a(session: Session) -> None:
        port = _device(session, "gpu-r13-u03").power_ports[1]
        assert port.outlet is not None and port.outlet.feed == "B"
        port.outlet.power_port = None
        session.flush()
        pdu_a = _device(session, "pdu-r13-a")
        free = next(o for o in pdu_a.outlets if o.power_port is None and o.type == "iec-60320-c19")
        free.power_port = port

    _break(db, move_psu2_to_feed_a)
    failed = {(c.check, c.subject): c.message for c in _failed(db, "r13")}
    assert failed == {("redundancy", "gpu-r13-u03"): "no supply on feed B: loses power with the other"}


def test_a_feed_too_small_for_failover_only(db: Database, build: Build) -> None:
    build("r12")
    _break(db, _small_feeds)
    with db.transaction() as session:
        feed = session.scalars(select(PowerFeed).join(Rack).where(Rack.name == "r12", PowerFeed.name == "B")).one()
        normal, worst = pm.feed_load_w(feed), pm.feed_worst_w(feed)
        assert normal < feed.usable_w < worst  # fine on a normal day, overloaded when A fails
    assert {c.check for c in _failed(db)} == {"feed-load"}


def _assign_duplicates(session: Session) -> None:
    u03, u11, u19 = (_device(session, f"gpu-r12-u{u}") for u in ("03", "11", "19"))
    assert u11.mgmt is not None
    u11.mgmt.address = u03.interface("bond0").addresses[0].address  # a BMC on a host's address
    u03.interface("ens1f0np0").mac = "AA:BB:CC:00:00:01"
    u19.interface("ens1f0np0").mac = "aa-bb-cc-00-00-01"  # the same MAC written another way
    u03.serial, u19.serial = "SN-0001", "sn-0001"


def test_duplicates_across_tables_and_spellings(db: Database, build: Build) -> None:
    build("r12")
    _break(db, _assign_duplicates)
    failed = {(c.check, c.subject): c.message for c in _failed(db)}
    assert list(failed) == [("duplicates", "inventory")]
    message = failed[("duplicates", "inventory")]
    assert "address 10.100.0.10 on gpu-r12-u03, gpu-r12-u11" in message
    assert "MAC aa:bb:cc:00:00:01 on gpu-r12-u03, gpu-r12-u19" in message
    assert "serial SN-0001 on gpu-r12-u03, gpu-r12-u19" in message


def test_checks_cover_only_the_racks_of_the_devices_given(db: Database, build: Build) -> None:
    build("r12")
    build("r13", "l40s-8node")
    _break(db, _hot)
    assert _failed(db, "r13") == []
    with db.transaction() as session:
        checks = validate(session, [_device(session, "gpu-r13-u03")])
    assert {c.subject for c in checks if c.check == "cooling"} == {"r13"}
    assert [c.subject for c in checks if c.check == "cabling"] == ["gpu-r13-u03"]


def test_duplicates_are_reported_only_for_the_devices_checked(db: Database, build: Build) -> None:
    build("r12")
    build("r13", "l40s-8node")
    _break(db, _assign_duplicates)
    assert _failed(db, "r13") == []
    assert [c.check for c in _failed(db, "r12")] == ["duplicates"]


def test_outlet_current_and_phase_loads(db: Database, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        outlet = session.scalars(
            select(PduOutlet)
            .join(Device, PduOutlet.pdu_id == Device.id)
            .where(Device.name == "pdu-r12-a1", PduOutlet.number == 25)
        ).one()
        assert outlet.power_port is not None and outlet.power_port.device.name == "gpu-r12-u03"
        assert pm.outlet_amps(outlet) == pytest.approx(1700 / (415 / 3**0.5))
        assert pm.outlet_amps(outlet, "B") == pytest.approx(3400 / (415 / 3**0.5))  # the node leans on feed A
        assert pm.outlet_amps(outlet, "A") == 0
        loads = pm.phase_loads([_device(session, "pdu-r12-a1")])
        assert [p.phase for p in loads] == ["L1", "L2", "L3"]
        iface = session.scalars(select(Interface).where(Interface.name == "bond0")).first()
        assert iface is not None


def test_breaker_ratings_the_pdu_reported_bound_the_outlets_on_them(db: Database, build: Build) -> None:
    """A probed PDU's breakers (facts.pdu.breakers, as `pdu probe` stores them) are checked like any rating:
    outlets 25 and 26 of pdu-r12-a1 (two H100 supplies: 10.2 kW over 6 supplies, at 415 V / sqrt(3)) on a
    16 A breaker C1 carry 14.2 A; with feed B lost 28.4 A, over the 12.8 A usable (80%)."""
    build("r12")

    def on_c1(session: Session) -> None:
        pdu = _device(session, "pdu-r12-a1")
        pdu.facts = {"pdu": {"family": "raritan", "breakers": {"C1": 16.0, "C2": 16.0}}}
        for outlet in pdu.outlets:
            if outlet.number in (25, 26):
                outlet.phase = "C1"

    _break(db, on_c1)
    (check,) = [c for c in _checks(db) if c.check == "breaker-load"]
    assert not check.ok and check.subject == "pdu-r12-a1"
    assert check.message == "C1 28.4 A > 12.8 A"


def test_sequencing_limits_include_the_reported_breakers(db: Database, build: Build) -> None:
    from rackctl.services.sequence import limits_for

    build("r12")
    with db.transaction() as session:
        pdu = _device(session, "pdu-r12-a1")
        pdu.facts = {"pdu": {"breakers": {"C1": 16.0}}}
        next(o for o in pdu.outlets if o.number == 25).phase = "C1"
        limits = limits_for([pdu])
    assert limits["pdu-r12-a1 C1"] == pytest.approx(16 * 415 / 3**0.5 * 0.8)  # 16 A at 239.6 V, 80%
    assert limits["pdu-r12-a1 L1"] == pytest.approx(limits["PDU pdu-r12-a1"] / 3)  # phases as before


def test_supplies_that_carry_the_load_on_one_feed_pass(db: Database, build: Build) -> None:
    build("r12")
    _break(db, _supplies_of(3500))
    checks = {(c.check, c.subject): c for c in _checks(db)}
    assert checks[("redundancy", "gpu-r12-u03")].ok
    assert checks[("redundancy", "gpu-r12-u03")].message == (
        "6 supplies over feeds A, B; at most 3.4 kW per supply, rated 3.5 kW"
    )


def test_a_device_below_its_vendors_minimum_of_supplies_fails(db: Database, build: Build) -> None:
    build("r12")

    def four_needed(session: Session) -> None:
        session.scalars(select(DeviceType).where(DeviceType.slug == "hgx-h100-8gpu")).one().psu_min_running = 4

    _break(db, four_needed)
    failed = {(c.check, c.subject): c.message for c in _failed(db)}
    assert failed[("redundancy", "gpu-r12-u03")] == (
        "with feed A lost, 10.2 kW on 3 supplies: 3.4 kW each, over their 3.3 kW rating"
        " (the node is power-capped to 9.9 kW or stops)"
    )
