"""Plan racks from a template: build it into a scratch inventory and read the same power model as validate.

The scratch inventory is an in-memory SQLite database holding the shipped device types, replaced or
extended by any device types of the user's own inventory, so a plan shows what `rackctl rack create`
followed by `rackctl validate` would. `count` is the number of GPU nodes wanted; racks are bought as whole
template instances (a pod template brings all its racks).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from rackctl.errors import Location, ValidationError
from rackctl.inventory import devicetypes
from rackctl.inventory import powermodel as pm
from rackctl.inventory.db import Base, Database
from rackctl.inventory.models import (
    Device,
    DeviceType,
    DeviceTypeConsolePort,
    DeviceTypeInterface,
    DeviceTypeModuleBay,
    DeviceTypeOutlet,
    DeviceTypePowerPort,
    Rack,
    Site,
)
from rackctl.inventory.templates.build import Built, create_racks
from rackctl.inventory.templates.loader import RackTemplate
from rackctl.inventory.validate import Check, validate
from rackctl.paths import data_dir
from rackctl.types import DeviceRole

SCRATCH_SITE = "plan"
SCRATCH_POD = "r1"
_COMPONENTS = {
    "power_ports": DeviceTypePowerPort,
    "outlets": DeviceTypeOutlet,
    "interfaces": DeviceTypeInterface,
    "console_ports": DeviceTypeConsolePort,
    "module_bays": DeviceTypeModuleBay,
}


@dataclass(frozen=True)
class FeedLoad:
    feed: str
    normal_kw: float
    one_lost_kw: float
    limit_kw: float
    ok: bool


@dataclass(frozen=True)
class RackFigures:
    """One rack of the template, fully populated."""

    name: str
    devices: dict[str, int]
    u_used: int
    u_height: int
    draw_kw: float
    power_capacity_kw: float
    power_ok: bool
    cooling: str
    cooling_limit_kw: float
    cooling_ok: bool
    feeds: list[FeedLoad]


@dataclass(frozen=True)
class RackPlan:
    template: str
    description: str
    gpu_nodes: int
    gpus_per_node: int
    gpu_model: str | None
    node_type: str
    nodes_per_template: int
    racks_per_template: int
    templates: int
    racks: int
    spare_node_slots: int
    total_draw_kw: float
    per_rack: list[RackFigures]
    checks_passed: int
    failed_checks: list[Check]
    inventory_types: list[str] = field(default_factory=list)

    @property
    def gpus(self) -> int:
        return self.gpu_nodes * self.gpus_per_node

    @property
    def kw_per_gpu(self) -> float:
        return self.total_draw_kw / self.gpus if self.gpus else 0.0

    @property
    def ok(self) -> bool:
        return not self.failed_checks

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed_checks"] = [c.as_dict() for c in self.failed_checks]
        return {**data, "gpus": self.gpus, "kw_per_gpu": round(self.kw_per_gpu, 4), "ok": self.ok}


def copy_device_types(session: Session) -> list[DeviceType]:
    """Detached copies of every device type in an inventory (with their components)."""
    return [_copy_type(t) for t in session.scalars(select(DeviceType).order_by(DeviceType.slug))]


def _columns(source: Any, cls: type[Any]) -> dict[str, Any]:
    skip = {"id", "device_type_id"}
    return {c.key: getattr(source, c.key) for c in sa_inspect(cls).column_attrs if c.key not in skip}


def _copy_type(source: DeviceType) -> DeviceType:
    copy = DeviceType(**_columns(source, DeviceType))
    for attr, cls in _COMPONENTS.items():
        setattr(copy, attr, [cls(**_columns(item, cls)) for item in getattr(source, attr)])
    return copy


def scratch_inventory(extra_types: list[DeviceType]) -> Database:
    """An in-memory inventory with the shipped device types, `extra_types` replacing those of the same slug."""
    db = Database("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes")])
        replaced = {t.slug for t in extra_types}
        for shipped in session.scalars(select(DeviceType).where(DeviceType.slug.in_(replaced))):
            session.delete(shipped)
        session.flush()
        session.add_all(extra_types)
        session.add(Site(name=SCRATCH_SITE, description="scratch inventory of rackctl plan"))
    return db


def plan_rack(
    template: RackTemplate,
    count: int | None = None,
    extra_types: list[DeviceType] | None = None,
    gpus: int | None = None,
) -> RackPlan:
    """Build `template` once in a scratch inventory and scale it to `count` GPU nodes (or enough for `gpus`)."""
    for flag, value in (("--count", count), ("--gpus", gpus)):
        if value is not None and value < 1:
            raise ValidationError(f"must be at least 1, got {value}", Location(field=flag))
    if count is not None and gpus is not None:
        raise ValidationError("give --count (GPU nodes) or --gpus, not both", Location(field="--gpus"))
    extra = extra_types or []
    db = scratch_inventory(extra)
    try:
        with db.transaction() as session:
            built = create_racks(session, template, SCRATCH_POD, SCRATCH_SITE, "rackctl-plan")
            session.flush()
            nodes = _nodes(built)
            wanted = count or (math.ceil(gpus / nodes[0].device_type.gpu_count) if gpus else len(nodes))
            return _plan(built, nodes, wanted, validate(session, built.devices), sorted(t.slug for t in extra))
    finally:
        db.dispose()


def _nodes(built: Built) -> list[Device]:
    """The template's GPU nodes: at least one, all of one device type that says how many GPUs it has."""
    where = Location(built.template.source)
    nodes = [d for d in built.devices if d.role == DeviceRole.GPU_NODE]
    if not nodes:
        raise ValidationError("the template has no gpu-node devices to count", where)
    kinds = sorted({d.device_type.slug for d in nodes})
    if len(kinds) > 1:
        raise ValidationError(f"the template mixes GPU node types ({', '.join(kinds)}); plan one type", where)
    if not nodes[0].device_type.gpu_count:
        raise ValidationError(f"device type {kinds[0]} does not say how many GPUs it holds (gpu_count)", where)
    return nodes


def _plan(built: Built, nodes: list[Device], wanted: int, checks: list[Check], inventory_types: list[str]) -> RackPlan:
    per_template = len(nodes)
    templates = math.ceil(wanted / per_template)
    spare = templates * per_template - wanted
    template_w = sum(pm.rack_draw_w(r) for r in built.racks)
    # A partly filled last template leaves its last node slots empty: their servers draw nothing.
    unbuilt_w = sum(pm.draw_w(d) for d in nodes[per_template - spare :]) if spare else 0
    node_type = nodes[0].device_type
    failed = [c for c in checks if not c.ok]
    return RackPlan(
        template=built.template.name,
        description=built.template.description,
        gpu_nodes=wanted,
        gpus_per_node=node_type.gpu_count,
        gpu_model=node_type.gpu_model,
        node_type=node_type.slug,
        nodes_per_template=per_template,
        racks_per_template=len(built.racks),
        templates=templates,
        racks=templates * len(built.racks),
        spare_node_slots=spare,
        total_draw_kw=_kw(templates * template_w - unbuilt_w),
        per_rack=[_figures(rack, checks) for rack in built.racks],
        checks_passed=len(checks) - len(failed),
        failed_checks=failed,
        inventory_types=inventory_types,
    )


def _kw(watts: float) -> float:
    return round(watts / 1000, 3)


def _passed(checks: list[Check], check: str, subject: str) -> bool:
    return all(c.ok for c in checks if c.check == check and c.subject == subject)


def _figures(rack: Rack, checks: list[Check]) -> RackFigures:
    feeds = [
        FeedLoad(
            feed=f.name,
            normal_kw=_kw(pm.feed_load_w(f)),
            one_lost_kw=_kw(pm.feed_worst_w(f)),
            limit_kw=_kw(f.usable_w),
            ok=_passed(checks, "feed-load", f"{rack.name}/{f.name}"),
        )
        for f in rack.feeds
    ]
    return RackFigures(
        name=rack.name,
        devices=dict(sorted(Counter(str(d.role) for d in rack.devices).items())),
        u_used=sum(len(d.units) for d in rack.devices),
        u_height=rack.u_height,
        draw_kw=_kw(pm.rack_draw_w(rack)),
        power_capacity_kw=rack.power_capacity_kw,
        power_ok=_passed(checks, "rack-power", rack.name),
        cooling=str(rack.cooling_kind),
        cooling_limit_kw=rack.cooling_limit_kw,
        cooling_ok=_passed(checks, "cooling", rack.name),
        feeds=feeds,
    )
