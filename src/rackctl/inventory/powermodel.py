"""How much each PDU, feed and outlet carries: in normal operation and with one feed lost.

A device's draw is split evenly over its connected power supplies. When a feed is lost, each device's
whole draw moves to its supplies on the surviving feeds. Breakers carry `max_utilisation` (80%) of their
rating continuously; IEC outlets are rated for continuous load.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rackctl.inventory.models import Device, PduOutlet, PowerFeed, PowerPort, Rack
from rackctl.types import DeviceRole

PDU_DERATING = 0.8


def connected_ports(device: Device) -> list[PowerPort]:
    return [p for p in device.power_ports if p.outlet is not None]


def feed_of(port: PowerPort) -> str | None:
    return port.outlet.feed if port.outlet else None


def draw_w(device: Device) -> int:
    return device.device_type.draw_w


def share_w(port: PowerPort, lost_feed: str | None = None) -> float:
    """What one connected power supply draws; zero when its own feed is the lost one."""
    device = port.device
    if port.outlet is None or (lost_feed is not None and feed_of(port) == lost_feed):
        return 0.0
    feeds = _supply_feeds(device)
    live = len(feeds) if lost_feed is None else sum(feed != lost_feed for feed in feeds)
    return draw_w(device) / live if live else 0.0


_FEEDS: ContextVar[dict[int, tuple[Device, list[str | None]]] | None] = ContextVar("supply_feeds", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    """Within the block, each device's supply feeds are worked out once (a validation asks for every PDU,
    feed and outlet under every lost feed: the same devices' supplies again and again). Only for blocks
    that do not change power connections."""
    token = _FEEDS.set({})
    try:
        yield
    finally:
        _FEEDS.reset(token)


def _supply_feeds(device: Device) -> list[str | None]:
    """The feeds of the device's connected power supplies, one entry each."""
    known = _FEEDS.get()
    if known is not None and id(device) in known:
        return known[id(device)][1]
    feeds = [feed_of(p) for p in connected_ports(device)]
    if known is not None:
        known[id(device)] = (device, feeds)  # the device kept too, so its id cannot be reused meanwhile
    return feeds


def pdu_load_w(pdu: Device, lost_feed: str | None = None) -> float:
    return sum(share_w(o.power_port, lost_feed) for o in pdu.outlets if o.power_port is not None)


def pdu_usable_w(pdu: Device) -> float | None:
    rated = pdu.device_type.rated_power_w
    return rated * PDU_DERATING if rated else None


def feed_load_w(feed: PowerFeed, lost_feed: str | None = None) -> float:
    return sum(pdu_load_w(pdu, lost_feed) for pdu in feed.pdus)


def feed_worst_w(feed: PowerFeed) -> float:
    """The feed's load in normal operation or with any other feed of its rack lost, whichever is higher."""
    others = [f.name for f in feed.rack.feeds if f.name != feed.name]
    return max([feed_load_w(feed)] + [feed_load_w(feed, lost) for lost in others])


def outlet_volts(outlet: PduOutlet) -> float:
    feed = outlet.pdu.power_feed
    if feed is None:
        return 230.0
    return feed.voltage / math.sqrt(3) if feed.phases == 3 else float(feed.voltage)


def outlet_amps(outlet: PduOutlet, lost_feed: str | None = None) -> float:
    if outlet.power_port is None:
        return 0.0
    return share_w(outlet.power_port, lost_feed) / outlet_volts(outlet)


def breaker_ratings(pdu: Device) -> dict[str, float]:
    """Breaker (bank, OCP, branch) ratings in amps the PDU itself reported to `pdu probe`, by name."""
    found = ((pdu.facts or {}).get("pdu") or {}).get("breakers") or {}
    return {str(k): float(v) for k, v in found.items() if isinstance(v, int | float) and v > 0}


def breaker_loads(pdu: Device, lost_feed: str | None = None) -> dict[str, tuple[float, float]]:
    """(amps planned, amps usable) per reported breaker that inventory outlets name as their phase/bank."""
    ratings = breaker_ratings(pdu)
    amps: dict[str, float] = defaultdict(float)
    for outlet in pdu.outlets:
        if outlet.phase in ratings:
            amps[outlet.phase] += outlet_amps(outlet, lost_feed)
    return {name: (amps[name], ratings[name] * PDU_DERATING) for name in amps}


def rack_draw_w(rack: Rack) -> int:
    """Worst-case draw of everything in the rack (what the cooling must remove)."""
    return sum(draw_w(d) for d in rack.devices if d.role != DeviceRole.PDU)


@dataclass(frozen=True)
class PhaseLoad:
    pdu: str
    phase: str
    watts: float


def phase_loads(pdus: Iterable[Device], lost_feed: str | None = None) -> list[PhaseLoad]:
    out: dict[tuple[str, str], float] = defaultdict(float)
    for pdu in pdus:
        for outlet in pdu.outlets:
            if outlet.power_port is not None:
                out[(pdu.name, outlet.phase or "-")] += share_w(outlet.power_port, lost_feed)
    return [PhaseLoad(pdu, phase, watts) for (pdu, phase), watts in sorted(out.items())]
