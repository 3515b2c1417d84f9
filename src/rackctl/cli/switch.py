"""`rackctl switch render|diff|push|backup` and `rackctl cabling check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl import fanout, targets
from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, JsonOption, YesOption, actor, state, transaction
from rackctl.cli.fanout_view import interruptible
from rackctl.cli.trust import TrustNewKeysOption, trust_new_keys
from rackctl.inventory import queries
from rackctl.paths import child
from rackctl.services.cabling import check
from rackctl.services.cabling.compare import compare
from rackctl.services.switch import ops, push

switch_app = typer.Typer(
    help="Switch configuration from the inventory: render, diff, push, back up.", no_args_is_help=True
)
cabling_app = typer.Typer(help="Check that cables are where the plan says.", no_args_is_help=True)

SwitchesArg = Annotated[
    list[str],
    typer.Argument(
        autocompletion=complete.targets, help="Switches (node sets), e.g. leaf-r12-a leaf-r12-b @role:leaf."
    ),
]
# Applying a configuration takes longer than a BMC call: at least this long per switch.
PUSH_TIMEOUT_S = 300.0


def _jobs(names: list[str], need_endpoint: bool = True, trust_new: str = "") -> list[ops.SwitchJob]:
    """The switches' jobs; `trust_new` (the command) first pins host keys of switches that have none."""
    if trust_new:
        trust_new_keys(",".join(names), trust_new)
    with transaction() as session:
        return ops.jobs(session, targets.resolve(session, ",".join(names)), need_endpoint)


def _run(fn: Any, jobs: list[ops.SwitchJob], timeout: float | None = None, retries: int | None = None) -> list[Any]:
    settings = state().settings
    return ops.run_all(
        fn, jobs, settings.workers, timeout or settings.timeout, settings.retries if retries is None else retries
    )


def _fail_if(results: list[fanout.Result[Any]]) -> None:
    for result in results:
        if not result.ok:
            output.error(f"{result.target}: {result.message}")
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


@switch_app.command("render")
def render_cmd(
    switches: SwitchesArg,
    out: Annotated[Path | None, typer.Option("--out", help="Write NAME.cfg files into this folder.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print each switch's configuration as the inventory says it should be (nothing is contacted)."""
    jobs = _jobs(switches, need_endpoint=False)
    if as_json:
        output.emit_json([{"switch": j.name, "platform": j.platform, "config": j.intended} for j in jobs])
        return
    for job in jobs:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            child(out, f"{job.name}.cfg").write_text(job.intended)
            output.line(f"{job.name}: {out / f'{job.name}.cfg'}")
        else:
            output.line(job.intended.rstrip("\n"))


def _show_diffs(results: list[fanout.Result[str]], as_json: bool) -> None:
    if as_json:
        output.emit_json(
            [
                {"switch": r.target, "ok": r.ok, "changed": bool(r.value), "diff": r.value or "", "error": r.message}
                for r in results
            ]
        )
        return
    for result in results:
        if result.ok:
            output.line(result.value or f"{result.target}: running configuration matches the inventory")


@switch_app.command("diff")
def diff_cmd(switches: SwitchesArg, as_json: JsonOption = False, trust_new: TrustNewKeysOption = False) -> None:
    """Show what differs between each switch's running configuration and the inventory's intent."""
    results = _run(ops.diff_one, _jobs(switches, trust_new="switch diff" if trust_new else ""))
    _show_diffs(results, as_json)
    _fail_if(results)


@switch_app.command("backup")
def backup_cmd(switches: SwitchesArg, as_json: JsonOption = False, trust_new: TrustNewKeysOption = False) -> None:
    """Save each switch's running configuration under the state folder (switch-backups/NAME/, owner-only)."""
    folder = state().settings.resolved_state_dir
    jobs = _jobs(switches, trust_new="switch backup" if trust_new else "")
    results = _run(lambda job: ops.backup_one(job, folder), jobs)
    if as_json:
        output.emit_json(
            [{"switch": r.target, "ok": r.ok, "path": str(r.value or ""), "error": r.message} for r in results]
        )
    else:
        for result in (r for r in results if r.ok):
            output.line(f"{result.target}: {result.value}")
    _fail_if(results)


@switch_app.command("push")
def push_cmd(
    switches: SwitchesArg, yes: YesOption = False, as_json: JsonOption = False, trust_new: TrustNewKeysOption = False
) -> None:
    """Apply the inventory's configuration: back up, diff, apply safely, verify, roll back on failure.

    Without --yes only the diff is shown. The two switches of an MLAG pair are pushed one after the other:
    the second only once the first is applied and verified.
    """
    jobs = _jobs(switches, trust_new="switch push" if trust_new else "")
    if not yes:
        previews = _run(ops.diff_one, jobs)
        _show_diffs(previews, as_json)
        output.note("nothing was pushed: pass --yes to apply")
        _fail_if(previews)
        return
    folder = state().settings.resolved_state_dir
    settings = state().settings
    options = fanout.Options(settings.workers, max(PUSH_TIMEOUT_S, settings.timeout), 0, stop=state().stop)
    command = f"switch push {' '.join(switches)}"
    with interruptible():
        results = push.push(state().database(), actor(), command, jobs, lambda job: ops.push_one(job, folder), options)
    if as_json:
        output.emit_json([_push_row(r) for r in results])
    else:
        output.table(
            "Switch push",
            ["switch", "result", "detail"],
            [(r.target, output.status(r.ok), _push_row(r)["detail"]) for r in results],
        )
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


def _push_row(result: fanout.Result[ops.PushOutcome]) -> dict[str, Any]:
    outcome = result.value
    if not result.ok or outcome is None:
        return {"switch": result.target, "ok": False, "changed": False, "detail": result.message}
    detail = f"applied and verified, backup {outcome.backup}" if outcome.changed else "already as intended"
    return {
        "switch": result.target,
        "ok": True,
        "changed": outcome.changed,
        "diff": outcome.diff,
        "backup": outcome.backup,
        "detail": detail,
    }


@cabling_app.command("check")
def cabling_check(
    target: Annotated[
        str,
        typer.Argument(autocompletion=complete.targets, help="Node set whose cables to check (default: everything)."),
    ] = "@all",
    as_json: JsonOption = False,
    ssh_user: Annotated[str, typer.Option(envvar="RACKCTL_SSH_USER", help="User for SSH to hosts.")] = "root",
    ssh_key: Annotated[str, typer.Option(envvar="RACKCTL_SSH_KEY", help="Private key for SSH to hosts.")] = "",
    trust_new: TrustNewKeysOption = False,
) -> None:
    """Compare LLDP and InfiniBand neighbours with the inventory's cables; exit 1 on any mismatch."""
    if trust_new:
        trust_new_keys(target, "cabling check")
    with transaction() as session:
        devices = queries.devices(session, targets.resolve(session, target))
        links = check.planned(session, devices)
        known = check.names(session, devices)
        found, skipped = check.sources(devices, ssh_user, ssh_key)
    settings = state().settings
    results = fanout.run(
        check.read_one,
        found,
        [s.name for s in found],
        fanout.Options(settings.workers, settings.timeout, settings.retries),
    )
    seen = []
    for result in results:
        if result.value is not None:
            lldp, fabric = result.value
            seen += check.resolve_lldp(lldp, known) + check.resolve_ib(fabric, known)
    reporters = {r.target for r in results if r.ok} | {s.device for s in seen}
    findings = compare(links, seen, reporters)
    _show_findings(findings, results, skipped, as_json)
    if any(not f.ok for f in findings) or any(not r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


def _show_findings(findings: list[Any], results: list[fanout.Result[Any]], skipped: list[str], as_json: bool) -> None:
    failed = [{"device": r.target, "error": r.message} for r in results if not r.ok]
    if as_json:
        output.emit_json(
            {
                "ok": all(f.ok for f in findings) and not failed,
                "findings": [f.as_dict() for f in findings],
                "unreachable": failed,
                "not_asked": skipped,
            }
        )
        return
    for finding in (f for f in findings if not f.ok):
        output.line(finding.message)
    for failure in failed:
        output.error(f"{failure['device']}: {failure['error']}")
    if skipped:
        output.note(f"not asked (no address in the inventory): {', '.join(skipped)}")
    good = sum(f.ok for f in findings)
    output.line(f"{good} of {len(findings)} cable(s) as planned")
