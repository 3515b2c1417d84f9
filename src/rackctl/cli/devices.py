"""`rackctl device ...`, `rackctl devicetype ...` and `rackctl profile ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from rackctl import targets
from rackctl.cli import complete, editing, output
from rackctl.cli.common import JsonOption, actor, transaction
from rackctl.errors import ValidationError
from rackctl.inventory import devicetypes, queries
from rackctl.inventory.describe import describe_device, device_row
from rackctl.inventory.edits import DeviceChanges, update_devices
from rackctl.inventory.models import Device, DeviceType, Profile
from rackctl.types import MgmtProtocol, NodeState

device_app = typer.Typer(
    help="Devices: list, show, change state and identity, rename, move, remove.", no_args_is_help=True
)
devicetype_app = typer.Typer(help="The hardware catalogue (NetBox devicetype-library format).", no_args_is_help=True)
profile_app = typer.Typer(help="Profiles: the software and firmware a device should run.", no_args_is_help=True)

device_app.command("remove")(editing.device_remove)
device_app.command("rename")(editing.device_rename)
device_app.command("move")(editing.device_move)
devicetype_app.command("remove")(editing.devicetype_remove)
profile_app.command("edit")(editing.profile_edit)

TargetsArg = Annotated[
    str,
    typer.Argument(autocompletion=complete.targets, help="Node set, e.g. gpu-r12-u[03,11], @rack:r12, @role:gpu-node."),
]


@device_app.command("list")
def device_list(
    target: Annotated[
        str, typer.Argument(autocompletion=complete.targets, help="Node set (default: every device).")
    ] = "@all",
    as_json: JsonOption = False,
) -> None:
    """List devices with rack, U, role, state and profile."""
    with transaction() as session:
        names = targets.resolve(session, target) if target != "@all" else None
        query = select(Device).order_by(Device.name)
        found = session.scalars(query.where(Device.name.in_(names)) if names else query).all()
        rows = [device_row(d) for d in found]
    if as_json:
        output.emit_json(rows)
        return
    columns = ["name", "rack", "u", "role", "type", "state", "profile", "mgmt"]
    output.table(f"Devices ({len(rows)})", columns, [[r[c] for c in columns] for r in rows])


@device_app.command("show")
def device_show(
    name: Annotated[str, typer.Argument(autocompletion=complete.devices, help="The device to show.")],
    as_json: JsonOption = False,
) -> None:
    """Everything the inventory knows about one device, with its lifecycle history."""
    with transaction() as session:
        data = describe_device(queries.device(session, name))
    if as_json:
        output.emit_json(data)
        return
    scalars = [(k, v) for k, v in data.items() if not isinstance(v, list | dict)]
    output.table(f"Device {name}", ["", ""], scalars)
    if data.get("mgmt"):
        output.table("Management", ["", ""], list(data["mgmt"].items()))
    output.table(
        "Interfaces",
        ["name", "kind", "speed", "mac", "mtu", "bond", "addresses", "cable to"],
        [
            (
                i["name"],
                i["kind"],
                i["speed_mbps"],
                i["mac"],
                i["mtu"],
                i["bond"],
                " ".join(i["addresses"]),
                i["peer"],
            )
            for i in data["interfaces"]
        ],
    )
    if data["power_ports"]:
        output.table(
            "Power",
            ["supply", "max W", "outlet", "feed", "phase"],
            [(p["name"], p["maximum_draw_w"], p["outlet"], p["feed"], p["phase"]) for p in data["power_ports"]],
        )
    output.table(
        "History",
        ["at", "from", "to", "by", "reason"],
        [(h["at"], h["from"], h["to"], h["actor"], h["reason"]) for h in data["history"]],
    )


@device_app.command("set")
def device_set(
    target: TargetsArg,
    state_: Annotated[NodeState | None, typer.Option("--state", help="Move to this lifecycle state.")] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")] = "",
    force: Annotated[bool, typer.Option(help="Allow a lifecycle jump that skips steps.")] = False,
    serial: Annotated[str | None, typer.Option(help="Serial number (one device only).")] = None,
    asset_tag: Annotated[str | None, typer.Option(help="Asset tag (one device only).")] = None,
    profile: Annotated[
        str | None, typer.Option(autocompletion=complete.profiles, help="Assign this profile ('' clears it).")
    ] = None,
    mgmt_address: Annotated[str | None, typer.Option(help="Management (BMC) address, one device only.")] = None,
    mgmt_port: Annotated[int | None, typer.Option(help="Management port, one device only.")] = None,
    mgmt_protocol: Annotated[MgmtProtocol | None, typer.Option(help="Management protocol.")] = None,
    mgmt_username: Annotated[str | None, typer.Option(help="Management user name.")] = None,
    mgmt_credential: Annotated[str | None, typer.Option(help="Secret reference: env:, file: or cred:.")] = None,
    platform: Annotated[
        str | None, typer.Option(help="Platform: a switch OS, a PDU's MIB family or 'auto' ('' clears it).")
    ] = None,
    tls_fingerprint: Annotated[
        str | None,
        typer.Option(help="Pin the Redfish BMC's certificate: its SHA-256 (openssl x509 -fingerprint -sha256)."),
    ] = None,
    clear_tls_fingerprint: Annotated[
        bool, typer.Option("--clear-tls-fingerprint", help="Remove the pin (the CA chain is checked again).")
    ] = False,
    redfish_scheme: Annotated[
        str | None, typer.Option(help="Redfish over https, or http (credentials then travel in clear text).")
    ] = None,
    pdu_unit: Annotated[
        str | None,  # checked by the inventory's rule (ASCII digits, 1-64), not coerced here
        typer.Option(help="Which unit of a PDU daisy chain this PDU's outlets are (1: the unit the network reaches)."),
    ] = None,
) -> None:
    """Change devices: lifecycle state, profile, identity, management endpoint."""
    if clear_tls_fingerprint and tls_fingerprint is not None:
        raise ValidationError("give --tls-fingerprint or --clear-tls-fingerprint, not both")
    changes = DeviceChanges(
        state=state_,
        reason=reason,
        force=force,
        serial=serial,
        asset_tag=asset_tag,
        profile=profile,
        mgmt_address=mgmt_address,
        mgmt_port=mgmt_port,
        mgmt_protocol=mgmt_protocol,
        mgmt_username=mgmt_username,
        mgmt_credential=mgmt_credential,
        platform=platform,
        tls_fingerprint="" if clear_tls_fingerprint else tls_fingerprint,
        redfish_scheme=redfish_scheme,
        pdu_unit=pdu_unit,
    )
    with transaction() as session:
        found = queries.devices(session, targets.resolve(session, target))
        changed = update_devices(session, found, changes, actor())
    output.line(f"{changed} of {len(found)} device(s) changed")


@devicetype_app.command("import")
def devicetype_import(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .yml/.yaml device types.")],
    overrides: Annotated[Path | None, typer.Option(help="YAML: slug -> fields to fill or correct.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import device types written in the NetBox devicetype-library format (all or nothing)."""
    extra = devicetypes.load_overrides(overrides)
    with transaction() as session:
        reports = devicetypes.import_files(session, paths, extra)
    if as_json:
        output.emit_json([r.__dict__ for r in reports])
        return
    output.table(
        f"Device types imported ({len(reports)})",
        ["slug", "action", "notes", "file"],
        [(r.slug, r.action, "; ".join(r.notes), r.source) for r in reports],
    )


@devicetype_app.command("list")
def devicetype_list(as_json: JsonOption = False) -> None:
    """List device types with their size, power and GPUs."""
    with transaction() as session:
        rows = [
            {
                "slug": t.slug,
                "manufacturer": t.manufacturer,
                "model": t.model,
                "u_height": t.u_height,
                "draw_w": t.draw_w,
                "gpus": f"{t.gpu_count}x {t.gpu_model}" if t.gpu_count else "",
                "power_ports": len(t.power_ports),
                "interfaces": len(t.interfaces),
                "outlets": len(t.outlets),
            }
            for t in session.scalars(select(DeviceType).order_by(DeviceType.slug))
        ]
    if as_json:
        output.emit_json(rows)
        return
    columns = ["slug", "manufacturer", "model", "u_height", "draw_w", "gpus", "power_ports", "interfaces"]
    output.table("Device types", columns, [[r[c] for c in columns] for r in rows])


@profile_app.command("list")
def profile_list(as_json: JsonOption = False) -> None:
    """List profiles and how many devices use each."""
    with transaction() as session:
        rows = [
            {**p.as_dict(), "devices": len(p.devices)} for p in session.scalars(select(Profile).order_by(Profile.name))
        ]
    if as_json:
        output.emit_json(rows)
        return
    columns = ["name", "nvidia_driver", "cuda", "fabric_manager", "serving_runtime", "devices"]
    output.table("Profiles", columns, [[r.get(c) for c in columns] for r in rows])


@profile_app.command("show")
def profile_show(name: str, as_json: JsonOption = False) -> None:
    """Show one profile."""
    with transaction() as session:
        data = queries.profile(session, name).as_dict()
    if as_json:
        output.emit_json(data)
        return
    output.table(f"Profile {name}", ["", ""], list(data.items()))
