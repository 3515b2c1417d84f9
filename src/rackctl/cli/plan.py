"""`rackctl plan ...`: GPUs for a model, racks and kilowatts for a template, cloud against owned."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, JsonOption, state
from rackctl.errors import InventoryError
from rackctl.inventory.db import redact_url
from rackctl.inventory.models import DeviceType
from rackctl.inventory.templates.loader import load_template
from rackctl.services.plan import data, model, rack, tco

plan_app = typer.Typer(
    help="Capacity and cost planning: GPUs for a model, racks and kW for a template, cloud against owned.",
    no_args_is_help=True,
)

_TemplateOption = Annotated[
    str | None,
    typer.Option("--template", "-t", autocompletion=complete.templates, help="Rack template name or YAML path."),
]


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _sources_table(rows: list[tuple[str, object, str]]) -> None:
    output.table("Assumptions (rackctl/data/planning.yaml unless given)", ["figure", "value", "source"], rows)


@plan_app.command("model")
def plan_model(
    precision: Annotated[str, typer.Option("--precision", help="fp16, bf16, fp8, int8 or int4.")],
    context: Annotated[int, typer.Option("--context", help="Tokens of context per sequence.")],
    concurrency: Annotated[int, typer.Option("--concurrency", help="Sequences served at once per replica.")],
    params: Annotated[str | None, typer.Option("--params", help="Parameter count: 70B, 8B, 1.5T.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="Only this GPU of the catalogue (h100, l40s ...).")] = None,
    arch: Annotated[str | None, typer.Option("--arch", help="Named architecture, e.g. llama-3.1-70b.")] = None,
    layers: Annotated[int | None, typer.Option("--layers", help="Transformer layers (instead of --arch).")] = None,
    kv_heads: Annotated[int | None, typer.Option("--kv-heads", help="Key/value heads (instead of --arch).")] = None,
    head_dim: Annotated[int | None, typer.Option("--head-dim", help="Size of one head (instead of --arch).")] = None,
    kv_precision: Annotated[
        str | None, typer.Option("--kv-precision", help="KV cache precision (default: by --precision).")
    ] = None,
    target_tps: Annotated[float | None, typer.Option("--target-tps", help="Tokens/s the service must give.")] = None,
    replica_tps: Annotated[float | None, typer.Option("--replica-tps", help="Tokens/s one replica gives.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Weights, KV cache and overhead of a model; GPUs per replica for each GPU; replicas for a target."""
    request = model.ModelRequest(
        params,
        precision,
        context,
        concurrency,
        gpu,
        arch,
        layers,
        kv_heads,
        head_dim,
        kv_precision,
        target_tps,
        replica_tps,
    )
    result = model.plan_model(data.load(), request)
    if as_json:
        output.emit_json(result.as_dict())
        return
    _print_model(result)


def _memory_rows(spec: model.ModelSpec, need: model.Memory) -> list[tuple[str, str, str]]:
    kv = f"{need.kv_bytes_per_token:,.0f} bytes/token ({spec.kv_precision})"
    return [
        ("weights", f"{need.weights_gb:,.1f}", f"{spec.params / 1e9:,.1f}B x {spec.bytes_per_param:g} bytes each"),
        ("KV cache", f"{need.kv_cache_gb:,.1f}", f"{kv} x {spec.context} context x {spec.concurrency} sequences"),
        ("overhead", f"{need.overhead_gb:,.1f}", f"{need.overhead_fraction:.0%} of weights + KV cache"),
        ("total", f"{need.total_gb:,.1f}", f"= {need.total_gib:,.1f} GiB (GPU memory is sized in GiB)"),
    ]


def _print_model(result: model.ModelPlan) -> None:
    spec = result.spec
    shape = f"{spec.layers} layers x {spec.kv_heads} KV heads x {spec.head_dim}"
    output.line(f"{spec.params / 1e9:,.1f}B parameters at {spec.precision}; {spec.arch or 'given shape'}: {shape}")
    output.table("Memory per replica", ["", "GB", "how"], _memory_rows(spec, result.memory))
    throughput = result.replicas is not None
    columns = ["GPU", "memory GiB", "GPUs/replica", "GiB per GPU", "use", "fits", "layout / why not"]
    output.table(
        "GPUs per replica",
        columns + (["replicas", "GPUs in all"] if throughput else []),
        [_gpu_row(row, throughput) for row in result.gpus],
    )
    if throughput:
        output.line(
            f"{result.target_tps:,.0f} tokens/s at {result.replica_tps:,.0f} per replica: {result.replicas} replicas"
        )
    _sources_table([(k, _number(v.value), v.source) for k, v in result.assumptions.items()])


def _gpu_row(row: model.GpuFit, throughput: bool) -> list[object]:
    cells: list[object] = [
        row.gpu,
        f"{row.memory_gib:g}",
        row.gpus_per_replica,
        f"{row.per_gpu_gib:,.1f}" if row.per_gpu_gib is not None else "",
        f"{row.utilisation:.0%}" if row.utilisation is not None else "",
        output.status(row.fits, "tight" if row.tight else "yes", "no"),
        row.note,
    ]
    return cells + ([row.replicas or "", row.total_gpus or ""] if throughput else [])


def _inventory_present(url: str) -> bool:
    """Whether the configured inventory exists at all (a missing SQLite file is not created just to look)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and parsed.database != ":memory:" and os.path.exists(parsed.database or "")


def _inventory_types() -> list[DeviceType]:
    """The device types of the user's inventory, when there is one; a plan works without it."""
    app = state()
    if not _inventory_present(app.url):
        return []
    try:
        with app.database().transaction() as session:
            return rack.copy_device_types(session)
    except InventoryError:
        return []  # no schema yet: nothing the user added
    except SQLAlchemyError as exc:
        reason = str(exc).splitlines()[0]
        output.note(f"inventory at {redact_url(app.url)} not readable ({reason}); using the shipped device types")
        return []


def _rack_plan(template: str | None, count: int | None = None, gpus: int | None = None) -> rack.RackPlan:
    spec = load_template(template or data.load().tco_template, state().settings.template_dirs)
    return rack.plan_rack(spec, count, _inventory_types(), gpus=gpus)


@plan_app.command("rack")
def plan_rack(
    template: Annotated[
        str,
        typer.Option("--template", "-t", autocompletion=complete.templates, help="Rack template name or YAML path."),
    ],
    count: Annotated[
        int | None, typer.Option("--count", "-n", help="GPU nodes wanted (default: one template's worth).")
    ] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", help="Or: enough GPU nodes for this many GPUs.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Devices, kW per rack and per feed (normal and one feed lost), cooling, racks needed for N GPU nodes."""
    result = _rack_plan(template, count, gpus)
    if as_json:
        output.emit_json(result.as_dict())
    else:
        _print_rack(result)
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _rack_rows(plan: rack.RackPlan) -> list[tuple[object, ...]]:
    return [
        (
            r.name,
            ", ".join(f"{n} {role}" for role, n in r.devices.items()),
            f"{r.u_used}/{r.u_height}",
            f"{r.draw_kw:.1f}",
            f"{r.power_capacity_kw:g}",
            f"{r.cooling} {r.cooling_limit_kw:g} kW",
            output.status(r.cooling_ok and r.power_ok),
        )
        for r in plan.per_rack
    ]


def _feed_rows(plan: rack.RackPlan) -> list[tuple[object, ...]]:
    return [
        (r.name, f.feed, f"{f.normal_kw:.1f}", f"{f.one_lost_kw:.1f}", f"{f.limit_kw:.1f}", output.status(f.ok))
        for r in plan.per_rack
        for f in r.feeds
    ]


def _print_rack(plan: rack.RackPlan) -> None:
    output.line(
        f"{plan.template}: {plan.gpu_nodes} x {plan.node_type} ({plan.gpus} x {plan.gpu_model}) need "
        f"{plan.templates} x {plan.racks_per_template} = {plan.racks} rack(s); {plan.spare_node_slots} node slots spare"
    )
    columns = ["rack", "devices", "U used", "draw kW", "contracted kW", "cooling", "within limits"]
    output.table("Each rack, fully populated", columns, _rack_rows(plan))
    columns = ["rack", "feed", "normal kW", "one feed lost kW", "limit kW (derated)", "ok"]
    output.table("Feeds", columns, _feed_rows(plan))
    output.line(f"total draw {plan.total_draw_kw:,.1f} kW for {plan.gpus} GPUs ({plan.kw_per_gpu:.2f} kW per GPU)")
    if plan.inventory_types:
        output.line(f"device types: shipped, with {len(plan.inventory_types)} taken from the inventory")
    output.line(f"validate checks: {plan.checks_passed} passed, {len(plan.failed_checks)} failed")
    if plan.failed_checks:
        rows = [(c.check, c.subject, c.message) for c in plan.failed_checks]
        output.table("Failed checks", ["check", "subject", "detail"], rows)


@plan_app.command("tco")
def plan_tco(
    gpus: Annotated[int, typer.Option("--gpus", help="GPUs to rent, or to own (rounded up to whole servers).")],
    cloud_rate: Annotated[float | None, typer.Option("--cloud-rate", help="USD per cloud GPU-hour.")] = None,
    utilisation: Annotated[
        float | None, typer.Option("--utilisation", help="Share of hours the cloud GPUs are used, 0-1.")
    ] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon and amortisation, months.")] = None,
    server_price: Annotated[float | None, typer.Option("--server-price", help="USD per GPU server.")] = None,
    power_price: Annotated[float | None, typer.Option("--power-price", help="USD per kWh.")] = None,
    pue: Annotated[float | None, typer.Option("--pue", help="Facility power usage effectiveness.")] = None,
    colo_per_gpu_month: Annotated[
        float | None, typer.Option("--colo-per-gpu-month", help="Colocation, USD per GPU per month.")
    ] = None,
    staff_month: Annotated[float | None, typer.Option("--staff-month", help="Staff, USD per month.")] = None,
    template: _TemplateOption = None,
    as_json: JsonOption = False,
) -> None:
    """Monthly cloud cost against owning (amortisation, power, colocation, staff) and the break-even month."""
    request = tco.TcoRequest(
        gpus, cloud_rate, utilisation, months, server_price, power_price, pue, colo_per_gpu_month, staff_month
    )
    result = tco.plan_tco(data.load(), request, _rack_plan(template, gpus=gpus))
    if as_json:
        output.emit_json(result.as_dict())
        return
    _print_tco(result)


def _month_rows(result: tco.Tco) -> list[tuple[str, str]]:
    return [
        ("cloud", _money(result.cloud_month)),
        ("owned: amortisation", _money(result.amortisation_month)),
        ("owned: power", _money(result.power_month)),
        ("owned: colocation", _money(result.colo_month)),
        ("owned: staff", _money(result.staff_month)),
        ("owned: total", _money(result.owned_month)),
    ]


def _print_tco(result: tco.Tco) -> None:
    output.line(
        f"{result.gpus} GPUs in the cloud, or {result.servers} servers ({result.owned_gpus} GPUs) "
        f"in {result.racks} rack(s) of {result.template}"
    )
    output.table("Per month", ["", "USD"], _month_rows(result))
    saving = result.cloud_total - result.owned_total
    verdict = f"owning saves {_money(saving)}" if saving >= 0 else f"owning costs {_money(-saving)} more"
    output.line(
        f"over {result.months} months: cloud {_money(result.cloud_total)}, owned {_money(result.owned_total)} "
        f"(purchase {_money(result.capex)}); {verdict}"
    )
    when = f"month {result.break_even_month}" if result.break_even_month else f"never within {result.months} months"
    output.line(f"break-even: {when}")
    threshold = result.break_even_utilisation
    if threshold is not None:
        output.line(
            f"owning pays off within the horizon above {threshold:.0%} utilisation"
            if threshold <= 1
            else "owning does not pay off within the horizon even at 100% utilisation"
        )
    _sources_table([(f"{a.name} ({a.unit})", _number(a.value), a.source) for a in result.assumptions])
