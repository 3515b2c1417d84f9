"""Cloud against owned, per month and over a horizon, with every assumption and where it came from.

cloud  = GPUs x rate per GPU-hour x hours per month x utilisation (the cloud bills the hours used)
owned  = servers x server price, paid up front and amortised over the horizon, plus each month:
         power (the rack plan's draw x PUE x hours x price), colocation per GPU, staff
Break-even is the first month in which the cloud bills so far reach the purchase plus the owned running
costs so far; "never" when that is not within the horizon.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from rackctl.errors import Location, ValidationError
from rackctl.services.plan.data import Figure, Gpu, Planning
from rackctl.services.plan.rack import RackPlan

_EPSILON = 1e-9


@dataclass(frozen=True)
class TcoRequest:
    """The user's figures; None takes the planning default."""

    gpus: int
    cloud_rate: float | None = None
    utilisation: float | None = None
    months: int | None = None
    server_price: float | None = None
    power_price: float | None = None
    pue: float | None = None
    colo_per_gpu_month: float | None = None
    staff_month: float | None = None


@dataclass(frozen=True)
class Assumption:
    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Tco:
    gpus: int
    owned_gpus: int
    servers: int
    racks: int
    template: str
    months: int
    capex: float
    cloud_month: float
    amortisation_month: float
    power_month: float
    colo_month: float
    staff_month: float
    cloud_total: float
    owned_total: float
    break_even_month: int | None
    break_even_utilisation: float | None
    assumptions: list[Assumption] = field(default_factory=list)

    @property
    def owned_month(self) -> float:
        return self.amortisation_month + self.running_month

    @property
    def running_month(self) -> float:
        return self.power_month + self.colo_month + self.staff_month

    def as_dict(self) -> dict[str, Any]:
        data = {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items() if k != "assumptions"}
        data |= {"owned_month": round(self.owned_month, 2), "running_month": round(self.running_month, 2)}
        data["savings_total"] = round(self.cloud_total - self.owned_total, 2)
        data["break_even_utilisation"] = self.break_even_utilisation
        data["assumptions"] = [asdict(a) for a in self.assumptions]
        return data


def catalogue_gpu(planning: Planning, gpu_model: str | None) -> Gpu | None:
    """The catalogue entry for a device type's GPU model (None when the catalogue does not know it)."""
    return next((g for g in planning.gpus.values() if gpu_model in g.inventory_models), None)


def break_even_month(capex: float, running_month: float, cloud_month: float, months: int) -> int | None:
    """The first month whose cumulative cloud bill covers the purchase and the running costs so far."""
    saving = cloud_month - running_month
    if saving <= 0:
        return None
    month = max(1, math.ceil(capex / saving - _EPSILON))
    return month if month <= months else None


def _check(request: TcoRequest) -> None:
    if request.gpus < 1:
        raise ValidationError(f"must be at least 1, got {request.gpus}", Location(field="--gpus"))
    if request.utilisation is not None and not 0 <= request.utilisation <= 1:
        raise ValidationError(f"must be between 0 and 1, got {request.utilisation:g}", Location(field="--utilisation"))
    if request.months is not None and request.months < 1:
        raise ValidationError(f"must be at least 1, got {request.months}", Location(field="--months"))
    if request.pue is not None and request.pue < 1:
        raise ValidationError(f"a PUE is at least 1, got {request.pue:g}", Location(field="--pue"))
    for name in ("cloud_rate", "server_price", "power_price", "colo_per_gpu_month", "staff_month"):
        value = getattr(request, name)
        if value is not None and value < 0:
            raise ValidationError(f"must not be negative, got {value:g}", Location(field="--" + name.replace("_", "-")))


class _Picker:
    """Takes each figure from the request or the planning defaults, and writes down which."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.used: list[Assumption] = []

    def take(self, name: str, given: float | None, default: Figure | None, unit: str, flag: str) -> float:
        if given is not None:
            return self.note(name, given, unit, f"given ({flag})")
        if default is None:
            where = Location(field=flag)
            raise ValidationError(f"the planning data has no {name} for {self.subject}", where, hint=f"pass {flag}")
        return self.note(name, default.value, unit, default.source)

    def note(self, name: str, value: float, unit: str, source: str) -> float:
        self.used.append(Assumption(name, value, unit, source))
        return value


def _server_price(pick: _Picker, request: TcoRequest, gpu: Gpu | None, rack: RackPlan) -> float:
    what = f"price of one {rack.node_type} server"
    if request.server_price is not None or gpu is None or gpu.price_usd is None:
        return pick.take(what, request.server_price, None, "USD", "--server-price")
    per_gpu = gpu.price_usd
    source = f"{rack.gpus_per_node} x ${per_gpu.value:,.0f} per GPU ({per_gpu.source})"
    return pick.note(what, per_gpu.value * rack.gpus_per_node, "USD", source)


@dataclass(frozen=True)
class _Inputs:
    rate: float
    utilisation: float
    hours: float
    months: int
    server_price: float
    power_price: float
    pue: float
    draw_kw: float
    colo: float
    staff: float


def _inputs(planning: Planning, request: TcoRequest, rack: RackPlan, pick: _Picker) -> _Inputs:
    gpu, tco = catalogue_gpu(planning, rack.gpu_model), planning.tco
    hours = tco["hours_per_month"]
    plan = f"rack plan: {rack.gpu_nodes} x {rack.node_type} in {rack.racks} x {rack.template}, maximum draw"
    return _Inputs(
        rate=pick.take(
            "cloud rate per GPU-hour",
            request.cloud_rate,
            gpu.cloud_usd_per_hour if gpu else None,
            "USD",
            "--cloud-rate",
        ),
        utilisation=pick.take("utilisation", request.utilisation, tco["utilisation"], "fraction", "--utilisation"),
        hours=pick.note("hours per month", hours.value, "h", hours.source),
        months=int(pick.take("horizon and amortisation", request.months, tco["months"], "months", "--months")),
        server_price=_server_price(pick, request, gpu, rack),
        power_price=pick.take("power price", request.power_price, tco["power_usd_per_kwh"], "USD/kWh", "--power-price"),
        pue=pick.take("PUE", request.pue, tco["pue"], "ratio", "--pue"),
        draw_kw=pick.note("IT draw of the owned racks", rack.total_draw_kw, "kW", plan),
        colo=pick.take(
            "colocation per GPU-month",
            request.colo_per_gpu_month,
            tco["colo_usd_per_gpu_month"],
            "USD",
            "--colo-per-gpu-month",
        ),
        staff=pick.take("staff per month", request.staff_month, tco["staff_usd_month"], "USD", "--staff-month"),
    )


def plan_tco(planning: Planning, request: TcoRequest, rack: RackPlan) -> Tco:
    """Compare renting `request.gpus` cloud GPUs with owning the servers and racks of `rack`."""
    _check(request)
    pick = _Picker(rack.gpu_model or rack.node_type)
    f = _inputs(planning, request, rack, pick)
    capex = f.server_price * rack.gpu_nodes
    cloud_month = request.gpus * f.rate * f.hours * f.utilisation
    power_month = f.draw_kw * f.pue * f.hours * f.power_price
    colo_month = f.colo * rack.gpus
    running = power_month + colo_month + f.staff
    full_cloud = request.gpus * f.rate * f.hours
    return Tco(
        gpus=request.gpus,
        owned_gpus=rack.gpus,
        servers=rack.gpu_nodes,
        racks=rack.racks,
        template=rack.template,
        months=f.months,
        capex=capex,
        cloud_month=cloud_month,
        amortisation_month=capex / f.months,
        power_month=power_month,
        colo_month=colo_month,
        staff_month=f.staff,
        cloud_total=cloud_month * f.months,
        owned_total=capex + running * f.months,
        break_even_month=break_even_month(capex, running, cloud_month, f.months),
        break_even_utilisation=round((capex / f.months + running) / full_cloud, 4) if full_cloud else None,
        assumptions=pick.used,
    )
