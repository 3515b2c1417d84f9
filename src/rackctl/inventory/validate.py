"""Check racks against physics and the plan: space, power, redundancy, cooling, cabling, duplicates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rackctl.inventory import powermodel as pm
from rackctl.inventory import queries
from rackctl.inventory.models import (
    Cable,
    Device,
    Interface,
    IpAddress,
    ManagementEndpoint,
    PduOutlet,
    PowerFeed,
    PowerPort,
    Rack,
)
from rackctl.types import DeviceRole, InterfaceKind

CHECKS = (
    "u-space",
    "pdu-load",
    "feed-load",
    "outlet-load",
    "redundancy",
    "cooling",
    "rack-power",
    "cabling",
    "duplicates",
)


@dataclass(frozen=True)
class Check:
    """One check of one subject (a rack, PDU, feed or device)."""

    check: str
    subject: str
    ok: bool
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _summary(problems: list[str], limit: int = 3) -> str:
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f" (and {more} more)" if more > 0 else "")


def _kw(watts: float) -> str:
    return f"{watts / 1000:.1f} kW"


def shared_units(a: Device, b: Device) -> set[int]:
    """The units two devices both occupy; devices on opposite faces share a unit only if one is full depth."""
    clash = a.face == b.face or a.device_type.is_full_depth or b.device_type.is_full_depth
    return set(a.units) & set(b.units) if clash else set()


def check_space(rack: Rack) -> Iterable[Check]:
    placed = [d for d in rack.devices if d.position is not None]
    problems = []
    for d in placed:
        if d.units.stop - 1 > rack.u_height:
            problems.append(f"{d.name} reaches U{d.units.stop - 1} of a {rack.u_height}U rack")
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            shared = shared_units(a, b)
            if shared:
                problems.append(f"{a.name} and {b.name} share U{min(shared)}")
    used = sum(len(d.units) for d in placed)
    yield Check("u-space", rack.name, not problems, "; ".join(problems) or f"{used}U of {rack.u_height}U used")


def check_pdus(rack: Rack) -> Iterable[Check]:
    other = {f.name for f in rack.feeds}
    for pdu in (d for d in rack.devices if d.role == DeviceRole.PDU):
        usable = pm.pdu_usable_w(pdu)
        normal = pm.pdu_load_w(pdu)
        own = pdu.power_feed.name if pdu.power_feed else None
        worst = max([normal] + [pm.pdu_load_w(pdu, lost) for lost in other - {own}])
        if usable is None:
            yield Check("pdu-load", pdu.name, False, f"rating unknown (device type {pdu.device_type.slug})")
            continue
        yield Check(
            "pdu-load",
            pdu.name,
            worst <= usable,
            f"{_kw(normal)} normal, {_kw(worst)} with the other feed lost, limit {_kw(usable)} (80%)",
        )


def check_feeds(rack: Rack) -> Iterable[Check]:
    for feed in rack.feeds:
        normal = pm.feed_load_w(feed)
        worst = pm.feed_worst_w(feed)
        limit = feed.usable_w
        yield Check(
            "feed-load",
            f"{rack.name}/{feed.name}",
            worst <= limit,
            f"{_kw(normal)} normal, {_kw(worst)} with the other feed lost, "
            f"limit {_kw(limit)} ({feed.max_utilisation:.0%} of {_kw(feed.capacity_w)})",
        )


def check_outlets(rack: Rack) -> Iterable[Check]:
    bad = []
    for pdu in (d for d in rack.devices if d.role == DeviceRole.PDU):
        for outlet in (o for o in pdu.outlets if o.power_port is not None and o.rating_a):
            amps = max(pm.outlet_amps(outlet, lost) for lost in [None, *(f.name for f in rack.feeds)])
            if amps > (outlet.rating_a or 0):
                bad.append(f"{outlet.label} {amps:.1f} A > {outlet.rating_a:.0f} A")
    yield Check("outlet-load", rack.name, not bad, _summary(bad) or "every outlet within its rating")


def check_breakers(rack: Rack) -> Iterable[Check]:
    """Outlets on a breaker whose rating the PDU reported (`pdu probe`): within 80% of it, either feed lost."""
    for pdu in (d for d in rack.devices if d.role == DeviceRole.PDU and pm.breaker_ratings(d)):
        other = {f.name for f in rack.feeds} - {pdu.power_feed.name if pdu.power_feed else ""}
        worst: dict[str, tuple[float, float]] = {}
        for lost in [None, *other]:
            for name, (amps, usable) in pm.breaker_loads(pdu, lost).items():
                if amps >= worst.get(name, (0.0, usable))[0]:
                    worst[name] = (amps, usable)
        bad = [f"{name} {a:.1f} A > {u:.1f} A" for name, (a, u) in sorted(worst.items()) if a > u]
        ratings = ", ".join(f"{n} {r:.0f} A" for n, r in sorted(pm.breaker_ratings(pdu).items()))
        yield Check("breaker-load", pdu.name, not bad, _summary(bad) or f"within the PDU's breakers ({ratings})")


def check_redundancy(rack: Rack) -> Iterable[Check]:
    feeds = {f.name for f in rack.feeds}
    for device in (d for d in rack.devices if d.role != DeviceRole.PDU and d.power_ports):
        ports = device.power_ports
        loose = [p.name for p in ports if p.outlet is None]
        on = {pm.feed_of(p) for p in ports if p.outlet is not None}
        if loose:
            yield Check("redundancy", device.name, False, f"not plugged in: {', '.join(loose)}")
        elif len(feeds) > 1 and on != feeds:
            missing = ", ".join(sorted(feeds - on))
            yield Check("redundancy", device.name, False, f"no supply on feed {missing}: loses power with the other")
        else:
            yield _supplies(device, sorted(on))


def _supplies(device: Device, feeds: list[str]) -> Check:
    """Each supply must carry its share of the device's draw with any one feed lost, not only exist on
    every feed: six 3.3 kW supplies of a 10.2 kW server leave 3.4 kW each on the three that remain. A device
    whose vendor documents running power-capped on that few supplies (`psu_min_running`) survives the loss."""
    ports, rating = device.power_ports, device.device_type.psu_rating_w
    spread = f"{len(ports)} supplies over feeds {', '.join(feeds)}"
    if not rating:
        return Check("redundancy", device.name, True, f"{spread}; supply rating unknown (psu_rating_w): not checked")
    draw = pm.draw_w(device)
    cases = {lost: [p for p in ports if pm.feed_of(p) != lost] for lost in feeds} if len(feeds) > 1 else {}
    per_supply = {lost: draw / len(live) for lost, live in cases.items()} | {None: draw / len(ports)}
    lost, worst = max(per_supply.items(), key=lambda item: item[1])
    if worst <= rating:
        return Check("redundancy", device.name, True, f"{spread}; at most {_kw(worst)} per supply, rated {_kw(rating)}")
    live = len(cases[lost]) if lost else len(ports)
    when = f"with feed {lost} lost, " if lost else ""
    over = f"{when}{_kw(draw)} on {live} supplies: {_kw(worst)} each, over their {_kw(rating)} rating"
    floor = device.device_type.psu_min_running
    if lost and floor and live >= floor:
        capped = f"; it runs power-capped to {_kw(rating * live)} (its vendor's minimum is {floor} supplies)"
        return Check("redundancy", device.name, True, over + capped)
    return Check(
        "redundancy", device.name, False, over + f" (the node is power-capped to {_kw(rating * live)} or stops)"
    )


def check_cooling(rack: Rack) -> Iterable[Check]:
    draw = pm.rack_draw_w(rack)
    yield Check(
        "cooling",
        rack.name,
        draw <= rack.cooling_limit_kw * 1000,
        f"{_kw(draw)} of heat, {rack.cooling_kind} cooling removes {rack.cooling_limit_kw:.1f} kW",
    )
    yield Check(
        "rack-power",
        rack.name,
        draw <= rack.power_capacity_kw * 1000,
        f"{_kw(draw)} against a contracted {rack.power_capacity_kw:.1f} kW",
    )


def check_cabling(session: Session, devices: list[Device]) -> Iterable[Check]:
    cabled = set(session.scalars(select(Cable.a_id))) | set(session.scalars(select(Cable.b_id)))
    wanted = {InterfaceKind.ETHERNET, InterfaceKind.INFINIBAND, InterfaceKind.BMC, InterfaceKind.CONSOLE}
    nodes = [d for d in devices if d.role == DeviceRole.GPU_NODE]
    # Each node's interfaces as plain rows: as objects they were most of a validation's time (a rack's
    # switch ports included, which this check never reads).
    ports: dict[int, list[tuple[str, InterfaceKind, int]]] = defaultdict(list)
    for batch in queries.in_batches([d.id for d in nodes]):
        columns = select(Interface.device_id, Interface.name, Interface.kind, Interface.id)
        for device_id, name, kind, ident in session.execute(
            columns.where(Interface.device_id.in_(batch)).order_by(Interface.id)
        ):
            ports[device_id].append((name, kind, ident))
    for device in nodes:
        loose = [name for name, kind, ident in ports[device.id] if kind in wanted and ident not in cabled]
        yield Check(
            "cabling",
            device.name,
            not loose,
            f"not cabled: {', '.join(loose)}" if loose else f"{len(ports[device.id])} interfaces cabled",
        )


def check_duplicates(session: Session, names: set[str]) -> Iterable[Check]:
    """Addresses, MACs and serials must be unique across the whole inventory."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for address, iface in session.execute(select(IpAddress.address, Interface).join(IpAddress.interface)):
        seen[("address", address)].append(iface.device.name)
    for mgmt in session.scalars(select(ManagementEndpoint)):
        if mgmt.address:
            seen[("address", mgmt.address)].append(mgmt.device.name)
    for iface in session.scalars(select(Interface).where(Interface.mac.is_not(None))):
        seen[("MAC", (iface.mac or "").lower().replace("-", ":"))].append(iface.device.name)
    for device in session.scalars(select(Device).where(Device.serial.is_not(None))):
        seen[("serial", (device.serial or "").strip().upper())].append(device.name)
    clashes = [
        f"{kind} {value} on {', '.join(sorted(owners))}"
        for (kind, value), owners in seen.items()
        if len(owners) > 1 and names & set(owners)
    ]
    yield Check("duplicates", "inventory", not clashes, "; ".join(clashes) or "addresses, MACs and serials unique")


_RACK_CHECKS: tuple[Callable[[Rack], Iterable[Check]], ...] = (
    check_space,
    check_pdus,
    check_feeds,
    check_outlets,
    check_breakers,
    check_redundancy,
    check_cooling,
)


def _load_racks(session: Session, racks: list[Rack]) -> None:
    """Everything the rack checks read, in a few queries per batch of racks instead of a few per device."""
    devices = selectinload(Rack.devices)
    options = (
        devices.joinedload(Device.device_type),
        devices.selectinload(Device.power_ports).joinedload(PowerPort.outlet),
        devices.selectinload(Device.outlets).joinedload(PduOutlet.power_port).joinedload(PowerPort.device),
        selectinload(Rack.feeds).selectinload(PowerFeed.pdus),
    )
    for batch in queries.in_batches([r.id for r in racks]):
        session.scalars(select(Rack).where(Rack.id.in_(batch)).options(*options)).all()


def validate(session: Session, devices: list[Device]) -> list[Check]:
    """Every check over the racks holding `devices`, and the device-level checks over `devices`."""
    racks = sorted({d.rack for d in devices if d.rack is not None}, key=lambda r: r.name)
    _load_racks(session, racks)
    with pm.remembered():  # the checks only read
        results = [c for rack in racks for check in _RACK_CHECKS for c in check(rack)]
    results += check_cabling(session, devices)
    results += check_duplicates(session, {d.name for d in devices})
    return results
