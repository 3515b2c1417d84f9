"""`rackctl validate`, `rackctl export ansible-inventory`, `rackctl import csv`, `rackctl log`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl import targets
from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, DryRunOption, JsonOption, transaction
from rackctl.errors import ValidationError
from rackctl.inventory import changelog, queries
from rackctl.inventory.csvapply import import_csv
from rackctl.inventory.csvimport import CsvErrors
from rackctl.inventory.export import ansible_inventory
from rackctl.inventory.validate import validate
from rackctl.services import history

export_app = typer.Typer(help="Export the inventory for other tools.", no_args_is_help=True)
import_app = typer.Typer(help="Import data into the inventory.", no_args_is_help=True)


class ChangeAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


def validate_cmd(
    target: Annotated[
        str,
        typer.Argument(autocompletion=complete.targets, help="Node set; its racks are checked (default: everything)."),
    ] = "@all",
    as_json: JsonOption = False,
    failures_only: Annotated[bool, typer.Option("--failures", help="Show failed checks only.")] = False,
) -> None:
    """Check U space, power per PDU and feed (80% derating), A/B redundancy, cooling, cabling, duplicates."""
    with transaction() as session:
        devices = queries.devices(session, targets.resolve(session, target))
        checks = validate(session, devices)
    failed = [c for c in checks if not c.ok]
    if as_json:
        output.emit_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        shown = failed if failures_only else checks
        output.table(
            "Validation",
            ["check", "subject", "result", "detail"],
            [(c.check, c.subject, output.status(c.ok), c.message) for c in shown],
        )
        output.line(f"{len(checks) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(EXIT_FAILED)


@export_app.command("ansible-inventory")
def export_ansible(
    target: Annotated[
        str, typer.Argument(autocompletion=complete.targets, help="Node set to export (default: everything).")
    ] = "@all",
) -> None:
    """Print Ansible's dynamic inventory JSON (groups by rack, role, state, profile)."""
    with transaction() as session:
        names = None if target == "@all" else targets.resolve(session, target)
        output.emit_json(ansible_inventory(session, names))


@import_app.command("csv")
def import_csv_cmd(
    path: Annotated[Path, typer.Argument(help="CSV with a header row; 'name' names the device.")],
    delimiter: Annotated[str, typer.Option("--delimiter", help="Column separator (';' for some spreadsheets).")] = ",",
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Apply serials, asset tags, MACs and BMC addresses from a spreadsheet, all or nothing.

    Columns (header row, any order, case-insensitive): name (required), serial, asset_tag, bmc_address
    (or mgmt_address), bmc_port, bmc_username, and one mac:INTERFACE (or INTERFACE_mac) per interface,
    e.g. mac:ens1f0np0. Empty cells change nothing. Every row is checked first; each bad row is named by
    its number and nothing is written. The file applies as a whole: two devices may swap serials.
    """
    if len(delimiter) != 1:
        raise ValidationError(f"--delimiter must be one character, not '{delimiter}'")
    try:
        with transaction() as session:
            plans = import_csv(session, path, delimiter, dry_run)
    except CsvErrors as exc:
        for problem in exc.errors:
            output.error(str(problem), problem.hint)
        output.note(f"{len(exc.errors)} bad row(s): nothing was imported")
        raise typer.Exit(2) from None
    changed = [p for p in plans if p.changes]
    if as_json:
        output.emit_json({"dry_run": dry_run, "rows": len(plans), "changed": [p.as_dict() for p in changed]})
        return
    for plan in changed:
        shown = "; ".join(f"{k}: {_cell(b)} -> {_cell(a)}" for k, (b, a) in plan.changes.items())
        output.line(f"row {plan.row} {plan.name}: {shown}")
    if dry_run:
        output.line(f"{len(plans)} row(s) checked in {path}: {len(changed)} device(s) would change")
        output.note("dry run: nothing was written")
    else:
        output.line(f"{len(plans)} row(s) imported from {path}: {len(changed)} device(s) changed")


def _cell(value: object) -> str:
    return "(none)" if value is None or value == "" else str(value)


def _who(actor: str, db_user: str | None) -> str:
    # The actor is what the client claimed; the database user is what PostgreSQL knows it logged in as.
    return actor if db_user in (None, actor) else f"{actor} (db: {db_user})"


def log_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many entries.")] = 20,
    target: Annotated[
        str | None, typer.Option("--target", help="Only entries about this device (rack, site, type, profile).")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: operation, or a kind of object (device, interface, cable ...)."),
    ] = None,
    action: Annotated[
        ChangeAction | None, typer.Option("--action", help="Only inventory changes of this action.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show what happened, newest first: operations (who ran what on which targets, each result) and
    inventory changes (who changed which object, field by field: before -> after)."""
    if kind is not None and kind not in changelog.known_kinds():
        raise ValidationError(f"unknown kind '{kind}'", hint="kinds: " + ", ".join(changelog.known_kinds()))
    flt = history.Filter(target, kind, action.value if action else None, limit)
    with transaction() as session:
        entries = history.timeline(session, flt)
    if as_json:
        output.emit_json(entries)
        return
    output.table(
        "Log",
        ["when", "who", "command", "result", "what"],
        [
            (
                e["at"].isoformat(timespec="seconds"),
                _who(e["actor"], e.get("db_user")),
                e["command"],
                _result_cell(e),
                e["summary"],
            )
            for e in entries
        ],
    )


def _result_cell(entry: dict[str, Any]) -> Any:
    if entry["type"] != history.OPERATION:
        return entry.get("action", "change")
    return output.status(entry["ok"]) if entry["ok"] is not None else "UNFINISHED"
