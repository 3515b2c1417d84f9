"""`rackctl audit`: drift audits across BMC, host, switch, cabling and PDU; history, diff, schedule, serve."""

from __future__ import annotations

import json
from collections import defaultdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from rackctl import targets
from rackctl.cli import complete, output
from rackctl.cli.common import DryRunOption, JsonOption, actor, state, transaction
from rackctl.cli.fanout_view import QueueOption, WaitForOption
from rackctl.cli.trust import TrustNewKeysOption, trust_new_keys
from rackctl.errors import ValidationError
from rackctl.services.audit import report as render
from rackctl.services.audit import store
from rackctl.services.audit.jobs import SshAccess
from rackctl.services.audit.outcome import AuditReport, Outcome, Shard
from rackctl.services.audit.run import AuditOptions, audit
from rackctl.services.audit.schedule import Interval, Schedule, credential
from rackctl.services.audit.serve import make_server
from rackctl.services.endpoints import credential_names
from rackctl.types import Layer, Severity

ALL = ",".join(("bmc", "host", "switch", "cabling", "pdu"))
DEFAULT_METRICS = "/var/lib/node_exporter/textfile_collector/rackctl_audit.prom"


class AuditGroup(TyperGroup):
    """Without a subcommand, `rackctl audit [TARGETS] [OPTIONS]` runs an audit (`run`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


audit_app = typer.Typer(
    cls=AuditGroup,
    help="Compare devices with the inventory: BMC, host, switch, cabling, PDU. Exit 0 clean, 1 drift, 2 not audited.",
)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    PROMETHEUS = "prometheus"
    JUNIT = "junit"


TargetsArg = Annotated[
    str, typer.Argument(autocompletion=complete.targets, help="Node set to audit (default: everything).")
]
LayersOption = Annotated[str, typer.Option("--layers", "-l", help="Comma-separated: bmc,host,switch,cabling,pdu.")]
ShardOption = Annotated[str | None, typer.Option("--shard", help="Audit slice i of n of the devices, e.g. 2/4.")]

SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


@audit_app.command("run")
def run_cmd(
    target: TargetsArg = "@all",
    layers: LayersOption = ALL,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="How to print the result.")] = Format.TABLE,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result to FILE (atomically).")] = None,
    shard: ShardOption = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds per device (default: settings).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Devices at once, per layer.")] = None,
    trust_new: TrustNewKeysOption = False,
    queue: QueueOption = False,
    wait: Annotated[
        bool, typer.Option("--wait", "--follow", help="Queue one job per rack, follow them, print the report.")
    ] = False,
    wait_for: WaitForOption = 3600.0,
) -> None:
    """Audit TARGETS (the default command): findings with hints; not-audited devices are never clean.

    --queue / --wait: run on the sites' workers instead of here (needs a PostgreSQL inventory)."""
    if out is not None and fmt == Format.TABLE:
        raise ValidationError("--output needs --format json, prometheus or junit")
    settings = state().settings
    chosen = render.layers_from(layers)
    if trust_new and set(chosen) & {Layer.HOST, Layer.CABLING, Layer.SWITCH}:
        trust_new_keys(target, "audit")
    options = AuditOptions(
        layers=chosen,
        workers=workers or settings.workers,
        timeout=timeout or max(settings.timeout, 30.0),
        retries=settings.retries,
        shard=Shard.parse(shard) if shard else None,
        ssh=SshAccess(settings.ssh_user, settings.ssh_key),
    )
    if queue or wait:
        from rackctl.cli import queued  # the task queue: only when asked for

        queued_report = queued.audit(target, options, wait, wait_for, fmt != Format.TABLE)
        if queued_report is None:
            raise typer.Exit(0)
        report = queued_report
    else:
        report = audit(state().database(), target, options, actor())
    _emit(report, fmt, out)
    raise typer.Exit(report.exit_code)


def _emit(report: AuditReport, fmt: Format, out: Path | None) -> None:
    if fmt == Format.TABLE:
        _print_table(report)
        return
    if fmt == Format.JSON:
        text = json.dumps(render.as_dict(report), indent=2) + "\n"
    elif fmt == Format.PROMETHEUS:
        text = render.prometheus(report.outcomes, report.finished_at)
    else:
        text = render.junit(report)
    if out is None:
        output.raw(text)
    else:
        render.write_atomically(out, text)
        output.note(f"wrote {out} (run {report.run_id}, exit {report.exit_code})")


def _print_table(report: AuditReport) -> None:
    if report.findings:
        output.table(
            f"Drift (run {report.run_id})",
            ["device", "layer", "check", "subject", "severity", "expected", "observed", "what to do"],
            [
                (f.device, f.layer.value, f.check, f.subject, Text(f.severity.value, SEVERITY_STYLE[f.severity]),
                 f.expected, f.observed, f.hint)
                for f in report.findings
            ],
        )  # fmt: skip
    if report.not_audited:
        output.table("Not audited", ["devices", "layer", "why"], _not_audited_rows(report.not_audited))
    counts = render.summary(report.outcomes)
    output.line(
        f"run {report.run_id}: {counts['devices']} device(s), {len(report.outcomes)} device layer(s): "
        f"{counts['clean']} clean, {counts['drift']} with drift ({counts['findings']} finding(s)), "
        f"{counts['not_audited']} not audited"
    )


def _not_audited_rows(outcomes: list[Outcome]) -> list[tuple[str, str, str]]:
    # Many devices share a reason (an unset credential, one unreachable switch): fold them.
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in outcomes:
        groups[(o.layer.value, o.message)].append(o.device)
    return [(targets.fold(devices), layer, why) for (layer, why), devices in sorted(groups.items())]


@audit_app.command("history")
def history_cmd(
    target: Annotated[
        str | None, typer.Argument(autocompletion=complete.targets, help="Only these devices (default: all).")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only findings not yet resolved.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs to list.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Past runs and every finding with its first seen, last seen and resolution."""
    with transaction() as session:
        names = targets.resolve(session, target) if target else None
        runs = [_run_dict(r) for r in store.runs(session, names, limit)]
        rows = [_finding_row(f) for f in store.findings(session, names, open_only)]
    if as_json:
        output.emit_json({"runs": runs, "findings": rows})
        return
    output.table("Audit runs", ["run", "finished", "actor", "targets", "layers", "devices", "findings", "not audited"],
                 [(r["id"], r["finished_at"][:19], r["actor"], r["targets"], ",".join(r["layers"]), r["devices"],
                   r["findings"], r["not_audited"]) for r in runs])  # fmt: skip
    output.table(
        "Findings",
        ["device", "layer", "check", "subject", "severity", "observed", "first seen", "last seen", "resolved"],
        [(r["device"], r["layer"], r["check"], r["subject"], r["severity"], r["observed"],
          f"#{r['first_seen_run']} {r['first_seen'][:16]}", f"#{r['last_seen_run']} {r['last_seen'][:16]}",
          f"#{r['resolved_run']} {r['resolved_at'][:16]}" if r["resolved_at"] else "open")
         for r in rows],
    )  # fmt: skip


def _run_dict(run: Any) -> dict[str, Any]:
    return {
        "id": run.id, "started_at": run.started_at.isoformat(), "finished_at": run.finished_at.isoformat(),
        "actor": run.actor, "targets": run.targets, "layers": run.layers, "shard": run.shard or None,
        "devices": run.devices, "findings": run.findings, "not_audited": run.not_audited,
    }  # fmt: skip


def _finding_row(row: Any) -> dict[str, Any]:
    return {
        "device": row.device, "layer": row.layer.value, "check": row.check, "subject": row.subject,
        "severity": row.severity.value, "expected": row.expected, "observed": row.observed, "hint": row.hint,
        "first_seen_run": row.first_seen_run_id, "first_seen": row.first_seen.isoformat(),
        "last_seen_run": row.last_seen_run_id, "last_seen": row.last_seen.isoformat(),
        "resolved_run": row.resolved_run_id, "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }  # fmt: skip


@audit_app.command("diff")
def diff_cmd(
    run_a: Annotated[int, typer.Argument(help="The earlier run.")],
    run_b: Annotated[int, typer.Argument(help="The later run.")],
    as_json: JsonOption = False,
) -> None:
    """What appeared and what was fixed between two runs."""
    with transaction() as session:
        result = store.diff(session, run_a, run_b)
    sections = {
        "appeared": result.appeared,
        "fixed": result.fixed,
        "still_open": result.still_open,
        "unknown": result.unknown,
    }
    if as_json:
        output.emit_json(
            {"run_a": run_a, "run_b": run_b, **{k: store.changes_as_dicts(v) for k, v in sections.items()}}
        )
        return
    titles = {"appeared": "Appeared", "fixed": "Fixed", "still_open": "Still open",
              "unknown": f"Not audited in run {run_b} (unknown)"}  # fmt: skip
    for name, changes in sections.items():
        if changes:
            rows = [(*c.key, c.severity, c.observed) for c in changes]
            output.table(titles[name], ["device", "layer", "check", "subject", "severity", "observed"], rows)
    output.line(
        f"run {run_a} -> {run_b}: {len(result.appeared)} appeared, {len(result.fixed)} fixed, "
        f"{len(result.still_open)} still open, {len(result.unknown)} unknown"
    )


@audit_app.command("schedule")
def schedule_cmd(
    every: Annotated[str, typer.Option("--every", help="How often: 15m, 1h, 6h, 1d ...")],
    target: TargetsArg = "@all",
    layers: LayersOption = ALL,
    shard: ShardOption = None,
    metrics: Annotated[str, typer.Option("--metrics-file", help="Where the timer writes Prometheus text.")] = (
        DEFAULT_METRICS
    ),
    name: Annotated[str, typer.Option("--name", help="Unit name (one per schedule).")] = "rackctl-audit",
    folder: Annotated[Path, typer.Option("--output", help="Folder for the unit files.")] = Path("/etc/systemd/system"),
    dry_run: DryRunOption = False,
    credentials: Annotated[
        list[str] | None,
        typer.Option(
            "--credential",
            help="NAME or NAME=/path: a LoadCredential= for cred:NAME (added: every cred: the targets use).",
        ),
    ] = None,
) -> None:
    """Write a systemd service and timer running the audit every period; show the cron equivalent.

    Secrets reach the service as systemd credentials (LoadCredential=), never through its environment.
    """
    render.layers_from(layers)
    args = [target, "--layers", layers, "--format", "prometheus", "--output", metrics]
    given = dict(credential(c) for c in credentials or [])
    with transaction() as session:
        used = credential_names(session, targets.resolve(session, target))
    loaded = tuple(sorted({**dict.fromkeys(used, ""), **given}.items()))
    extra = ["--shard", str(Shard.parse(shard))] if shard else []
    plan = Schedule(name, Interval.parse(every), args + extra, loaded)
    if dry_run:
        output.raw(
            f"# {folder / (name + '.service')}\n{plan.service()}\n# {folder / (name + '.timer')}\n{plan.timer()}"
        )
    else:
        for path in plan.write(folder):
            output.line(f"wrote {path}")
        output.line(f"enable it: systemctl daemon-reload && systemctl enable --now {name}.timer")
    output.line(f"cron equivalent: {plan.cron_line()}")
    if state().url.startswith("postgresql"):
        output.note(f"on PostgreSQL the sites' workers can run it instead: rackctl worker --audit-every {every}")


@audit_app.command("serve")
def serve_cmd(
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve /metrics on.")] = "127.0.0.1:9310",
) -> None:
    """Serve the newest audit state as Prometheus metrics on /metrics (until interrupted)."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ValidationError(f"--listen '{listen}': expected HOST:PORT")
    server = make_server(state().database(), host or "127.0.0.1", int(port))
    output.note(f"serving http://{host or '127.0.0.1'}:{server.server_address[1]}/metrics (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
