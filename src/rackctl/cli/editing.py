"""Editing the inventory: remove, rename, move devices; delete racks and sites; remove device types; edit
profiles. Each takes `--dry-run` (the same plan, nothing written) and, where it deletes, asks first."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from rackctl import targets
from rackctl.cli import complete, output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption, confirm, transaction
from rackctl.errors import ValidationError
from rackctl.inventory import edits, placement, profiles, queries, removal
from rackctl.types import Face

ForceOption = Annotated[
    bool, typer.Option("--force", help="Remove devices that are powered or in service (or PDUs feeding them).")
]
_COUNTED = ("devices", "interfaces", "cables", "addresses", "pdu_outlets", "outlets_freed")


def _finish(session: Session, dry_run: bool) -> None:
    """A dry run ends here: whatever the plan touched in the session is undone, nothing is logged."""
    if dry_run:
        session.rollback()


def _counts(summary: dict[str, Any]) -> str:
    parts = []
    for key in _COUNTED:
        value = summary[key]
        count = value if isinstance(value, int) else len(value)
        if count:
            label = key.replace("_", " ")
            parts.append(f"{count} {label[:-1] if count == 1 and label.endswith('s') else label}")
    return ", ".join(parts)


def _show_removal(what: str, summary: dict[str, Any], dry_run: bool, as_json: bool) -> None:
    if as_json:
        output.emit_json({"dry_run": dry_run, **summary})
        return
    lines = [f"{what}: {_counts(summary) or 'nothing else'}"]
    lines += [f"  cable {c}" for c in summary["cables"]]
    lines += [f"  outlet {o} freed" for o in summary["outlets_freed"]]
    for line in lines:
        output.line(line)
    output.note("dry run: nothing was removed" if dry_run else "removed")


def _remove(plan: removal.Removal, what: str, session: Session, dry_run: bool, yes: bool) -> dict[str, Any]:
    summary = plan.summary()
    if not dry_run:
        confirm(f"remove {what} ({_counts(summary) or 'nothing else'})?", yes)
        plan.apply(session)
    return summary


def device_remove(
    target: Annotated[
        str,
        typer.Argument(
            autocompletion=complete.targets, help="Node set of devices to remove, e.g. gpu-r12-u03 or @rack:r12."
        ),
    ],
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove devices with their interfaces, addresses, BMC endpoint, cables and power cords (outlets are
    freed). Devices that are powered or in service are refused without --force."""
    with transaction() as session:
        found = queries.devices(session, targets.resolve(session, target))
        what = targets.fold(d.name for d in found)
        summary = _remove(removal.devices(session, found, force), what, session, dry_run, yes)
    _show_removal(f"remove {what}", summary, dry_run, as_json)


def rack_delete(
    name: Annotated[
        str, typer.Argument(autocompletion=complete.racks, help="The rack to delete, with everything in it.")
    ],
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a rack with its devices (as `device remove` does), cables and power feeds."""
    with transaction() as session:
        plan = removal.rack(session, queries.rack(session, name), force)
        summary = _remove(plan, f"rack {name}", session, dry_run, yes)
    _show_removal(f"delete rack {name}", summary, dry_run, as_json)


def site_remove(
    name: Annotated[str, typer.Argument(help="A site that holds no racks.")],
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a site; its racks must be deleted first, one by one."""
    with transaction() as session:
        plan = removal.site(session, queries.site(session, name))
        summary = _remove(plan, f"site {name}", session, dry_run, yes=True)
    _show_removal(f"remove site {name}", summary, dry_run, as_json)


def devicetype_remove(
    slug: Annotated[str, typer.Argument(autocompletion=complete.device_types, help="A device type no device uses.")],
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a device type from the catalogue; refused while a device uses it."""
    with transaction() as session:
        plan = removal.device_type(session, queries.device_type(session, slug))
        summary = _remove(plan, f"device type {slug}", session, dry_run, yes=True)
    _show_removal(f"remove device type {slug}", summary, dry_run, as_json)


def device_rename(
    name: Annotated[str, typer.Argument(autocompletion=complete.devices, help="The device's current name.")],
    new: Annotated[str, typer.Argument(help="Its new name (letters, digits, . _ -).")],
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Rename a device; its components, cables, history and change log follow it."""
    with transaction() as session:
        result = placement.rename(session, queries.device(session, name), new)
        _finish(session, dry_run)
    _show_change({**result, "dry_run": dry_run}, f"{name} -> {new}", dry_run, as_json)


def device_move(
    name: Annotated[str, typer.Argument(autocompletion=complete.devices, help="The device to move.")],
    rack: Annotated[
        str | None, typer.Option("--rack", autocompletion=complete.racks, help="To this rack (default: where it is).")
    ] = None,
    u: Annotated[int | None, typer.Option("--u", help="Lowest U it will occupy.")] = None,
    face: Annotated[Face | None, typer.Option("--face", help="front or rear.")] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Move a device to another U, face or rack; refused when it would share a U with another device or
    leave the rack. Moving to another rack unplugs its power cords from PDUs left behind."""
    with transaction() as session:
        device = queries.device(session, name)
        plan = placement.move(session, device, queries.rack(session, rack) if rack else None, u, face)
        _finish(session, dry_run)
    data = {**plan.as_dict(), "dry_run": dry_run}
    shown = f"{name}: {_place(plan.before)} -> {_place(plan.after)}"
    _show_change(data, shown + "".join(f"; unplugged {p}" for p in plan.unplugged), dry_run, as_json)


def rack_edit(
    name: Annotated[str, typer.Argument(autocompletion=complete.racks, help="The rack to change.")],
    pod: Annotated[str | None, typer.Option("--pod", help="Put it in this pod ('' takes it out).")] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a rack's pod (what `@pod:NAME` selects)."""
    if pod is None:
        raise ValidationError("nothing to change", hint="give --pod NAME (or --pod '' to take it out of its pod)")
    with transaction() as session:
        before, after = edits.set_pod(queries.rack(session, name), pod)
        _finish(session, dry_run)
    data = {"rack": name, "changes": {"pod": [before, after]} if before != after else {}, "dry_run": dry_run}
    text = (
        f"rack {name}: pod: {_value(before)} -> {_value(after)}" if before != after else f"rack {name}: nothing changed"
    )
    _show_change(data, text, dry_run, as_json)


def _place(where: dict[str, Any]) -> str:
    return f"{where['rack']} U{where['u']} {where['face']}" if where["u"] else f"{where['rack']} 0U"


def profile_edit(
    name: Annotated[str, typer.Argument(autocompletion=complete.profiles, help="The profile to change.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE, e.g. nvidia_driver=570.133.20 or extra.vlans.tenant=100."),
    ] = None,
    unset: Annotated[list[str] | None, typer.Option("--unset", help="FIELD to clear.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free text.")] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a profile's pins and settings; checked as a rack template's profiles are."""
    if not set_ and not unset and description is None:
        raise ValidationError("nothing to change", hint="give --set FIELD=VALUE, --unset FIELD or --description")
    with transaction() as session:
        changed = profiles.edit(queries.profile(session, name), set_ or [], unset or [], description)
        _finish(session, dry_run)
    text = "; ".join(f"{k}: {_value(b)} -> {_value(a)}" for k, (b, a) in changed.items()) or "nothing changed"
    _show_change({"profile": name, "changes": changed, "dry_run": dry_run}, f"profile {name}: {text}", dry_run, as_json)


def _value(value: Any) -> str:
    return "(none)" if value is None or value == "" or value == {} else str(value)


def _show_change(data: dict[str, Any], text: str, dry_run: bool, as_json: bool) -> None:
    if as_json:
        output.emit_json(data)
        return
    output.line(text)
    if dry_run:
        output.note("dry run: nothing was changed")
