"""`rackctl worker` and `rackctl jobs ...`: per-site workers on the PostgreSQL task queue, and its jobs."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl.cli import output
from rackctl.cli.common import DryRunOption, JsonOption, state
from rackctl.inventory.names import check_text, one_line
from rackctl.jobs import listing
from rackctl.jobs import queue as queues
from rackctl.jobs import worker as workers
from rackctl.services.audit import report as render
from rackctl.services.audit.jobs import SshAccess
from rackctl.services.audit.schedule import Interval, credential

jobs_app = typer.Typer(help="Jobs on the task queue: list, show, cancel, retry.", no_args_is_help=True)
NAME_LIMIT = 48
JobArg = Annotated[int, typer.Argument(help="The job's id (rackctl jobs list).", min=1)]


def worker_cmd(
    site: Annotated[str, typer.Option("--site", help="Sites whose management networks this host reaches (a,b).")] = "",
    kinds: Annotated[str, typer.Option("--queues", help="Kinds of job it runs: audit,bmc,host,provision,firmware.")] = (
        "audit,bmc"
    ),
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Jobs at once.")] = 4,
    name: Annotated[str, typer.Option("--name", help="This worker's name in logs (default: host name).")] = "",
    job_timeout: Annotated[float, typer.Option("--job-timeout", min=1, help="Seconds before a job is stopped.")] = (
        1800.0
    ),
    stalled_after: Annotated[
        float, typer.Option("--stalled-after", min=1, help="Seconds of silence after which a worker is dead.")
    ] = 30.0,
    write_unit: Annotated[
        bool, typer.Option("--write-unit", help="Write a systemd service instead of running.")
    ] = False,
    folder: Annotated[Path, typer.Option("--output", help="Folder for the unit file.")] = Path("/etc/systemd/system"),
    credentials: Annotated[
        list[str] | None, typer.Option("--credential", help="With --write-unit: NAME or NAME=/path, for cred:NAME.")
    ] = None,
    audit_every: Annotated[
        str | None, typer.Option("--audit-every", help="Audit the sites every period (15m, 1h, 1d ...): queued jobs.")
    ] = None,
    audit_layers: Annotated[str, typer.Option("--audit-layers", help="Layers of the scheduled audits.")] = (
        "bmc,host,switch,cabling,pdu"
    ),
    dry_run: DryRunOption = False,
) -> None:
    """Run queued jobs for some sites and kinds until SIGINT/SIGTERM (needs a PostgreSQL inventory)."""
    # The name goes into logs and, for scheduled audits, into the recorded actor ("schedule (NAME)", 64 at most).
    check_text(name, "--name", limit=NAME_LIMIT)
    layers = tuple(layer.value for layer in render.layers_from(audit_layers))
    every = Interval.parse(audit_every) if audit_every else None
    plan = workers.WorkerPlan(
        queues.sites_from(site), queues.kinds_from(kinds), concurrency, name, job_timeout, stalled_after, every, layers
    )
    if write_unit or dry_run:
        _unit(plan, folder, tuple(credential(c) for c in credentials or []), dry_run)
        return
    workers.check_tools(plan)
    app = state()
    queues.conninfo(app.url)  # SQLite: one line before anything starts
    who = name or one_line(socket.gethostname(), NAME_LIMIT)
    shown = who.replace("%", "%%")  # logging's own format: a literal % doubled
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {shown} %(levelname)s %(name)s: %(message)s")
    names = workers.queue_names(app.database(), plan)
    output.note(f"worker {who}: queues {','.join(names)}; {concurrency} job(s) at once (Ctrl-C stops)")
    ssh = SshAccess(app.settings.ssh_user, app.settings.ssh_key)
    workers.run(app.url, app.database(), plan, ssh, who)


def _unit(plan: workers.WorkerPlan, folder: Path, loaded: tuple[tuple[str, str], ...], dry_run: bool) -> None:
    unit_name = "rackctl-worker" + (f"-{plan.sites[0]}" if len(plan.sites) == 1 else "")
    text = workers.unit(plan, loaded)
    if dry_run:
        output.raw(f"# {folder / (unit_name + '.service')}\n{text}")
        return
    output.line(f"wrote {workers.write_unit(folder, unit_name, text)}")
    output.line(f"enable it: systemctl daemon-reload && systemctl enable --now {unit_name}.service")


def _url() -> str:
    """The inventory's URL, once it is known to be PostgreSQL (SQLite: one line, before anything is opened)."""
    queues.conninfo(state().url)
    return state().url


def _row_dict(row: listing.JobRow) -> dict[str, Any]:
    return {
        "id": row.id, "queue": row.queue, "task": row.task, "status": row.status, "attempts": row.attempts,
        "target": row.target, "deferred_at": row.deferred_at.isoformat() if row.deferred_at else None,
        "changed_at": row.changed_at.isoformat() if row.changed_at else None,
    }  # fmt: skip


@jobs_app.command("list")
def list_cmd(
    queue: Annotated[str | None, typer.Option("--queue", help="Only this queue, e.g. fra1.audit.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="todo, doing, succeeded, failed, interrupted, cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first: queue, task, state, attempts, targets."""
    rows = listing.jobs(_url(), state().database(), queue, status, limit)
    if as_json:
        output.emit_json([_row_dict(r) for r in rows])
        return
    output.table("Jobs", ["job", "queue", "task", "status", "attempts", "targets", "changed"],
                 [(r.id, r.queue, r.task, r.status, r.attempts, r.target,
                   f"{r.changed_at:%Y-%m-%d %H:%M:%S}" if r.changed_at else "") for r in rows])  # fmt: skip


@jobs_app.command("show")
def show_cmd(job_id: JobArg, as_json: JsonOption = False) -> None:
    """One job: its arguments, its events, and what it recorded in the operation log."""
    row, events = listing.job(_url(), state().database(), job_id)
    operations = listing.operations(state().database(), job_id)
    if as_json:
        output.emit_json({**_row_dict(row), "arguments": row.arguments, "operations": operations,
                          "events": [{"type": e["type"], "at": e["at"].isoformat()} for e in events]})  # fmt: skip
        return
    output.line(f"job {row.id}: {row.task} on {row.queue}: {row.status} ({row.attempts} attempt(s))")
    output.table("Events", ["event", "at"], [(e["type"], f"{e['at']:%Y-%m-%d %H:%M:%S}") for e in events])
    if operations:
        output.table("Operations (rackctl log)", ["id", "command", "summary"],
                     [(o["id"], o["command"], o["summary"]) for o in operations])  # fmt: skip


@jobs_app.command("cancel")
def cancel_cmd(
    job_id: JobArg,
    abort: Annotated[bool, typer.Option("--abort", help="Also stop a running job (it ends its fan-out cleanly).")] = (
        False
    ),
) -> None:
    """Cancel a job that has not started (--abort: ask a running one to stop)."""
    listing.cancel(_url(), job_id, abort)
    output.line(f"job {job_id}: " + ("abort requested" if abort else "cancelled"))


@jobs_app.command("retry")
def retry_cmd(job_id: JobArg) -> None:
    """Run an ended job again (a new job, same task, queue and arguments)."""
    new_id = listing.retry(_url(), state().database(), job_id)
    output.line(f"job {job_id} queued again as job {new_id}")
