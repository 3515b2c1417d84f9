"""Plan power-on waves from the inventory's power model, so no breaker sees more than it may carry.

Every device draws its inrush (`DeviceType.power_on_draw_w`) while it powers on and its maximum
(`draw_w`) afterwards, split evenly over its connected power supplies. Each PDU may carry its rating,
each of its phases a third of it, each feed its circuit capacity - all derated to 80% for continuous
load. A/B redundancy: every check holds in normal operation and with any one feed lost (the whole
draw of a device then moves to its supplies on the other feed), so losing a feed mid-sequence trips
nothing. Waves are packed greedily, network gear first, then storage, then compute (never mixing
groups; in the order given within a group), at most `max_per_wave` devices each. Planning is pure:
`loads_for` reads the inventory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from rackctl.inventory import powermodel
from rackctl.inventory.models import Device
from rackctl.services.bmc import has_bmc
from rackctl.services.feeds import upstream
from rackctl.types import DeviceRole

NETWORK_ROLES = frozenset(
    {DeviceRole.LEAF, DeviceRole.SPINE, DeviceRole.MGMT_SWITCH, DeviceRole.IB_SWITCH, DeviceRole.CONSOLE_SERVER}
)
GROUP_ORDER = ("network", "storage", "compute")
Scenario = str | None  # the lost feed, or None for normal operation


@dataclass(frozen=True)
class Port:
    """Where one connected power supply draws from: its switched outlet's PDU, phase and feed."""

    pdu: str
    outlet: int
    phase: str
    feed: str


@dataclass(frozen=True)
class Load:
    device: str
    group: str
    max_w: float
    inrush_w: float
    ports: tuple[Port, ...]
    has_bmc: bool

    def share(self, port: Port, watts: float, lost: Scenario) -> float:
        """What one supply draws when the device draws `watts` and feed `lost` is gone."""
        live = [p for p in self.ports if p.feed != lost or lost is None]
        return watts / len(live) if port in live else 0.0

    def points(self, watts: float, lost: Scenario) -> dict[str, float]:
        """Watts on every limited point (PDU, PDU phase, feed) in one scenario."""
        out: dict[str, float] = defaultdict(float)
        for port in self.ports:
            w = self.share(port, watts, lost)
            for point in (f"PDU {port.pdu}", f"{port.pdu} {port.phase}", f"feed {port.feed}"):
                out[point] += w
        return out


@dataclass(frozen=True)
class Wave:
    number: int
    group: str
    devices: tuple[str, ...]
    inrush_w: float
    peak_point: str  # the most loaded point while this wave powers on, e.g. "feed r12/A with B lost"
    peak_w: float
    peak_usable_w: float


@dataclass
class SequencePlan:
    waves: list[Wave] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)  # device, why it fits no wave
    loads: dict[str, Load] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)  # point -> usable watts

    def pdu_watts(self, wave: Wave, key: str = "inrush_w") -> dict[str, float]:
        """Watts a wave adds to each PDU in normal operation (its inrush, or `max_w` afterwards)."""
        out: dict[str, float] = defaultdict(float)
        for name in wave.devices:
            load = self.loads[name]
            for port in load.ports:
                out[port.pdu] += load.share(port, getattr(load, key), None)
        return dict(out)


def group_of(device: Device) -> str:
    if device.role in NETWORK_ROLES:
        return "network"
    return "storage" if device.role == DeviceRole.STORAGE else "compute"


def load_of(device: Device) -> Load:
    ports = tuple(
        Port(o.pdu.name, o.number, o.phase or "L1", _feed_key(o.pdu))
        for port in device.power_ports
        for o in upstream(port)
    )
    dtype = device.device_type
    return Load(
        device.name, group_of(device), float(dtype.draw_w), float(dtype.power_on_draw_w), ports, has_bmc(device)
    )


def _feed_key(pdu: Device) -> str:
    feed = pdu.power_feed
    rack = pdu.rack.name if pdu.rack else ""
    return f"{rack}/{feed.name}" if feed else f"{pdu.name}/-"


def limits_for(pdus: Iterable[Device]) -> dict[str, float]:
    """Usable watts per PDU, PDU phase and feed (80% continuous derating)."""
    limits: dict[str, float] = {}
    for pdu in pdus:
        usable = powermodel.pdu_usable_w(pdu)
        feed = pdu.power_feed
        if usable:
            limits[f"PDU {pdu.name}"] = usable
            phases = sorted({o.phase for o in pdu.outlets if o.phase})
            if feed is not None and feed.phases == 3 and phases:
                limits.update({f"{pdu.name} {phase}": usable / 3 for phase in phases})
        for point, watts in _breaker_limits(pdu).items():
            limits[point] = min(watts, limits.get(point, watts))
        if feed is not None:
            limits[f"feed {_feed_key(pdu)}"] = feed.usable_w
    return limits


def _breaker_limits(pdu: Device) -> dict[str, float]:
    """Usable watts of the breakers the PDU reported (`pdu probe`) that outlets name as their phase or bank."""
    ratings = powermodel.breaker_ratings(pdu)
    volts = {o.phase: powermodel.outlet_volts(o) for o in pdu.outlets if o.phase in ratings}
    return {f"{pdu.name} {name}": ratings[name] * v * powermodel.PDU_DERATING for name, v in volts.items()}


def loads_for(session: Session, devices: Sequence[Device]) -> tuple[list[Load], dict[str, float], list[Load]]:
    """Loads of the devices to power on, the limits they meet, and the other loads on those PDUs."""
    loads = [load_of(d) for d in devices if d.role != DeviceRole.PDU]
    pdus = {o.pdu.id: o.pdu for d in devices for p in d.power_ports for o in upstream(p)}
    wanted = {d.name for d in devices}
    others = {
        o.power_port.device.name: o.power_port.device
        for pdu in pdus.values()
        for o in pdu.outlets
        if o.power_port is not None and o.power_port.device.name not in wanted
    }
    return loads, limits_for(pdus.values()), [load_of(d) for d in others.values() if not d.outlets]


class _Budget:
    """Watts committed on every point in every scenario, checked against the limits."""

    def __init__(self, limits: dict[str, float], scenarios: list[Scenario]) -> None:
        self.limits = limits
        self.scenarios = scenarios
        self.committed: dict[tuple[str, Scenario], float] = defaultdict(float)

    def add(self, loads: Iterable[Load], key: str) -> None:
        for load in loads:
            for lost in self.scenarios:
                for point, w in load.points(getattr(load, key), lost).items():
                    self.committed[(point, lost)] += w

    def peak(self, wave: Sequence[Load]) -> tuple[str, float, float]:
        """The most loaded point (by share of its limit) if `wave` powered on now: name, watts, usable."""
        worst = ("", 0.0, 1.0)
        for lost in self.scenarios:
            extra: dict[str, float] = defaultdict(float)
            for load in wave:
                for point, w in load.points(load.inrush_w, lost).items():
                    extra[point] += w
            for point, usable in self.limits.items():
                total = self.committed[(point, lost)] + extra[point]
                if total / usable > worst[1] / worst[2]:
                    worst = (point + (f" with {lost.split('/')[-1]} lost" if lost else ""), total, usable)
        return worst

    def fits(self, wave: Sequence[Load]) -> bool:
        _, watts, usable = self.peak(wave)
        return watts <= usable


def _group_rank(load: Load) -> int:
    return GROUP_ORDER.index(load.group)


def plan_waves(
    loads: Sequence[Load],
    limits: dict[str, float],
    baseline: Sequence[Load] = (),
    max_per_wave: int = 4,
) -> SequencePlan:
    """Pack the loads into waves; `baseline` is gear already drawing its maximum."""
    feeds = sorted({p.feed for load in [*loads, *baseline] for p in load.ports})
    budget = _Budget(limits, [None, *feeds])
    budget.add(baseline, "max_w")
    ordered = sorted(loads, key=_group_rank)
    plan = SequencePlan(loads={load.device: load for load in loads}, limits=limits)
    wave: list[Load] = []
    for load in ordered:
        if wave and (len(wave) >= max_per_wave or wave[0].group != load.group or not budget.fits([*wave, load])):
            _close(plan, budget, wave)
            wave = []
        if budget.fits([load]):
            wave.append(load)
        else:
            point, watts, usable = budget.peak([load])
            plan.blocked.append((load.device, f"{point} would carry {watts / 1000:.1f} of {usable / 1000:.1f} kW"))
    if wave:
        _close(plan, budget, wave)
    return plan


def _close(plan: SequencePlan, budget: _Budget, wave: list[Load]) -> None:
    point, watts, usable = budget.peak(wave)
    devices = tuple(load.device for load in wave)
    plan.waves.append(
        Wave(len(plan.waves) + 1, wave[0].group, devices, sum(x.inrush_w for x in wave), point, watts, usable)
    )
    budget.add(wave, "max_w")
