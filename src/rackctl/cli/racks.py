"""`rackctl site ...` and `rackctl rack ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text
from sqlalchemy import select

from rackctl.cli import complete, editing, output
from rackctl.cli.common import JsonOption, actor, state, transaction
from rackctl.errors import Conflict
from rackctl.inventory import powermodel as pm
from rackctl.inventory import queries
from rackctl.inventory.elevation import elevation
from rackctl.inventory.models import Rack, Site
from rackctl.inventory.names import check_name, check_text
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import list_templates, load_template, parse_template

site_app = typer.Typer(help="Sites (data centres, colocation cages).", no_args_is_help=True)
rack_app = typer.Typer(help="Racks: create from templates, list, draw, delete.", no_args_is_help=True)

site_app.command("remove")(editing.site_remove)
rack_app.command("delete")(editing.rack_delete)
rack_app.command("edit")(editing.rack_edit)


@site_app.command("add")
def site_add(name: str, description: str = typer.Option("", help="Free text, e.g. the cage address.")) -> None:
    """Add a site."""
    check_name(name, "site name")
    check_text(description, "--description")
    with transaction() as session:
        if session.scalars(select(Site).where(Site.name == name)).first():
            raise Conflict(f"site '{name}' already exists")
        session.add(Site(name=name, description=description))
    output.line(f"site {name} added")


@site_app.command("list")
def site_list(as_json: JsonOption = False) -> None:
    """List sites with their racks."""
    with transaction() as session:
        rows = [
            {"name": s.name, "description": s.description, "racks": [r.name for r in s.racks]}
            for s in session.scalars(select(Site).order_by(Site.name))
        ]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "Sites",
        ["site", "racks", "description"],
        [(r["name"], ", ".join(r["racks"]), r["description"]) for r in rows],
    )


@rack_app.command("create")
def rack_create(
    name: Annotated[str, typer.Argument(help="Rack name (a pod template derives its racks' names from it).")],
    template: Annotated[
        str, typer.Option("--template", "-t", autocompletion=complete.templates, help="Template name or YAML path.")
    ],
    site: Annotated[str, typer.Option("--site", "-s", help="Site the rack stands in.")],
    pod: Annotated[str | None, typer.Option("--pod", help="Pod of the new racks (default: the template's).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a whole rack (or pod) from a template in one transaction."""
    check_name(name, "rack name")
    spec = load_template(template, state().settings.template_dirs)
    with transaction() as session:
        built = create_racks(session, spec, name, site, actor(), pod)
        summary = {
            "template": spec.name,
            "racks": [r.name for r in built.racks],
            "devices": len(built.devices),
        }
    if as_json:
        output.emit_json(summary)
        return
    output.line(f"created {', '.join(summary['racks'])} from {spec.name}: {summary['devices']} devices")


@rack_app.command("templates")
def rack_templates(as_json: JsonOption = False) -> None:
    """List the rack templates rackctl can find."""
    rows = []
    for path in list_templates(state().settings.template_dirs):
        spec = parse_template(path.read_text(encoding="utf-8"), str(path))
        rows.append({"name": spec.name, "description": spec.description, "path": str(path)})
    if as_json:
        output.emit_json(rows)
        return
    output.table("Rack templates", ["name", "description"], [(r["name"], r["description"]) for r in rows])


def _draw(name: str, svg: Path | None, png: Path | None) -> None:
    from rackctl.drawing.files import write_elevation
    from rackctl.drawing.picture import rack_picture

    with transaction() as session:
        picture = rack_picture(session, queries.rack(session, name))
    for path in write_elevation(picture, svg, png):
        output.line(f"rack {name} drawn to {path}")


def _rack_summary(rack: Rack) -> dict[str, object]:
    return {
        "name": rack.name,
        "site": rack.site.name,
        "u_height": rack.u_height,
        "devices": len(rack.devices),
        "draw_kw": round(pm.rack_draw_w(rack) / 1000, 2),
        "power_capacity_kw": rack.power_capacity_kw,
        "cooling": rack.cooling_kind.value,
        "cooling_limit_kw": rack.cooling_limit_kw,
        "template": rack.template,
        "pod": rack.pod,
    }


@rack_app.command("list")
def rack_list(as_json: JsonOption = False) -> None:
    """List racks with their load against power and cooling."""
    with transaction() as session:
        rows = [_rack_summary(r) for r in session.scalars(select(Rack).order_by(Rack.name))]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "Racks",
        ["rack", "site", "pod", "devices", "draw kW", "capacity kW", "cooling", "template"],
        [
            (
                r["name"],
                r["site"],
                r["pod"] or "",
                r["devices"],
                r["draw_kw"],
                r["power_capacity_kw"],
                f"{r['cooling']} {r['cooling_limit_kw']} kW",
                r["template"],
            )
            for r in rows
        ],
    )


SvgOption = Annotated[
    Path | None,
    typer.Option(
        "--svg", help="Draw the front and rear elevation with PDU loads as SVG into this file (instead of the table)."
    ),
]
PngOption = Annotated[
    Path | None, typer.Option("--png", help="Draw it as PNG into this file (needs headless Chromium).")
]


@rack_app.command("show")
def rack_show(
    name: Annotated[str, typer.Argument(autocompletion=complete.racks, help="The rack to draw.")],
    as_json: JsonOption = False,
    svg: SvgOption = None,
    png: PngOption = None,
) -> None:
    """Draw a rack U by U with each device's power, then its PDUs and phase loads (--svg/--png: as a picture)."""
    if svg is not None or png is not None:
        _draw(name, svg, png)
        return
    with transaction() as session:
        rack = queries.rack(session, name)
        slots, zero_u = elevation(rack)
        summary = _rack_summary(rack)
        pdus = [
            {
                "name": d.name,
                "feed": d.power_feed.name if d.power_feed else None,
                "load_kw": round(pm.pdu_load_w(d) / 1000, 2),
            }
            for d in zero_u
        ]
        phases = [p.__dict__ for p in pm.phase_loads(zero_u)]
    if as_json:
        output.emit_json({**summary, "units": [s.__dict__ for s in slots], "zero_u": pdus, "phases": phases})
        return
    rows = []
    for slot in slots:
        if slot.device is None:
            rows.append((f"U{slot.u}", Text("·", style="dim"), "", "", ""))
        elif slot.continued:
            rows.append((f"U{slot.u}", Text(f"│ {slot.device}", style="dim"), "", "", ""))
        else:
            rows.append((f"U{slot.u}", slot.device, slot.role, slot.face, f"{(slot.draw_w or 0) / 1000:.2f} kW"))
    title = (
        f"Rack {rack.name} ({summary['site']}): {summary['draw_kw']} kW of {summary['power_capacity_kw']} kW,"
        f" {summary['cooling']} cooling to {summary['cooling_limit_kw']} kW"
    )
    output.table(title, ["U", "device", "role", "face", "max draw"], rows)
    output.table("0U (PDUs)", ["pdu", "feed", "load kW"], [(p["name"], p["feed"], p["load_kw"]) for p in pdus])
