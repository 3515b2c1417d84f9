"""`rackctl validate`, `rackctl export ansible-inventory`, `rackctl import csv`, `rackctl log`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl import targets
from rackctl.cli import output
from rackctl.cli.common import EXIT_FAILED, JsonOption, transaction
from rackctl.inventory import queries
from rackctl.inventory.csvimport import CsvErrors, import_csv
from rackctl.inventory.export import ansible_inventory
from rackctl.inventory.validate import validate
from rackctl.services import oplog

export_app = typer.Typer(help="Export the inventory for other tools.", no_args_is_help=True)
import_app = typer.Typer(help="Import data into the inventory.", no_args_is_help=True)


def validate_cmd(
    target: Annotated[str, typer.Argument(help="Node set; its racks are checked (default: everything).")] = "@all",
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
    target: Annotated[str, typer.Argument(help="Node set to export (default: everything).")] = "@all",
) -> None:
    """Print Ansible's dynamic inventory JSON (groups by rack, role, state, profile)."""
    with transaction() as session:
        names = None if target == "@all" else targets.resolve(session, target)
        output.emit_json(ansible_inventory(session, names))


@import_app.command("csv")
def import_csv_cmd(
    path: Annotated[Path, typer.Argument(help="CSV with a header row; 'name' names the device.")],
) -> None:
    """Apply serials, asset tags, MACs and BMC addresses from a spreadsheet, all or nothing."""
    try:
        with transaction() as session:
            count = import_csv(session, path)
    except CsvErrors as exc:
        for problem in exc.errors:
            output.error(str(problem))
        output.note(f"{len(exc.errors)} bad row(s): nothing was imported")
        raise typer.Exit(2) from None
    output.line(f"{count} row(s) imported from {path}")


def log_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many operations.")] = 20,
    target: Annotated[str | None, typer.Option("--target", help="Only operations on this device.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the operation log, newest first: who did what to which targets, and each result."""
    with transaction() as session:
        rows = [_log_row(op) for op in oplog.recent(session, limit, target)]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "Operation log",
        ["id", "when", "who", "command", "result", "summary"],
        [
            (
                r["id"],
                r["started_at"].isoformat(timespec="seconds"),
                r["actor"],
                r["command"],
                output.status(r["ok"]) if r["ok"] is not None else "UNFINISHED",
                r["summary"],
            )
            for r in rows
        ],
    )


def _log_row(op: Any) -> dict[str, Any]:
    """An operation as `rackctl log` shows it; one without an end was cut off (ok is null)."""
    end = oplog.shown(op)
    return {
        "id": op.id,
        "started_at": op.started_at,
        "finished_at": end.finished_at,
        "actor": op.actor,
        "command": op.command,
        "ok": end.ok,
        "summary": end.summary,
        "interrupted": end.interrupted,
        "targets": list(op.targets or []),
        "results": [{"target": r.target, "ok": r.ok, "message": r.message} for r in op.results]
        + [{"target": t, "ok": False, "message": "unknown: no result recorded"} for t in end.unrecorded],
    }
