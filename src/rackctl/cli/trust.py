"""`rackctl trust TARGETS`: pin devices' SSH host keys at first contact, shown, confirmed and logged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rackctl import fanout, targets
from rackctl.cli import complete, output
from rackctl.cli.common import EXIT_FAILED, JsonOption, YesOption, actor, confirm, state, transaction
from rackctl.services import hostkeys
from rackctl.services.hostkeys import Judgement, SshTarget, Verdict

TrustNewKeysOption = Annotated[
    bool,
    typer.Option(
        "--trust-new-keys",
        help="Pin the SSH host key of devices that have none yet (logged); a changed key is still refused.",
    ),
]


def trust_cmd(
    target: Annotated[
        str, typer.Argument(autocompletion=complete.targets, help="Devices (node set) whose SSH host keys to pin.")
    ],
    yes: YesOption = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Also replace changed keys (check the new one on the host first).")
    ] = False,
    known_hosts: Annotated[
        Path | None,
        typer.Option("--known-hosts", help="Take the keys from this OpenSSH known_hosts file, not from the hosts."),
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="Show the pinned keys; contact nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show each device's SSH host key fingerprint and pin it after confirmation; changed keys are refused."""
    settings = state().settings
    with transaction() as session:
        found, missing = hostkeys.ssh_targets(session, targets.resolve(session, target))
    if list_only:
        _show_pins(found, as_json)
        return
    source = known_hosts or (Path(settings.ssh_known_hosts) if settings.ssh_known_hosts else None)
    if source is not None:
        judged = hostkeys.from_known_hosts(found, source)
    else:
        options = fanout.Options(settings.workers, settings.timeout, settings.retries)
        judged = [hostkeys.judge(t, r) for t, r in zip(found, hostkeys.scan(found, options), strict=True)]
    _show(judged, missing, as_json)
    chosen = [j for j in judged if j.verdict == Verdict.NEW or (replace and j.verdict == Verdict.CHANGED)]
    if chosen:
        listed = ", ".join(f"{j.target.device} {j.fingerprint}" for j in chosen)
        confirm(f"Pin {len(chosen)} SSH host key(s): {listed}?", yes)
        command = f"trust {target}" + (" --replace" if replace else "") + (f" --known-hosts {source}" if source else "")
        with transaction() as session:
            hostkeys.pin(session, actor(), command, chosen, "known_hosts" if source else "scan", replace)
        if not as_json:
            output.line(f"pinned {len(chosen)} SSH host key(s)")
    refused = [j for j in judged if j.verdict == Verdict.UNREACHABLE or (j.verdict == Verdict.CHANGED and not replace)]
    if refused or missing:
        raise typer.Exit(EXIT_FAILED)


def _row(judgement: Judgement) -> dict[str, Any]:
    return {
        "device": judgement.target.device,
        "address": judgement.target.where,
        "verdict": judgement.verdict.value,
        "key_type": judgement.key_type,
        "fingerprint": judgement.fingerprint,
        "pinned": judgement.pinned_fingerprints,
        "error": judgement.error,
    }


def _show(judged: list[Judgement], missing: list[str], as_json: bool) -> None:
    rows = [_row(j) for j in judged]
    if as_json:
        output.emit_json({"keys": rows, "no_ssh_address": missing})
        return
    output.table(
        "SSH host keys",
        ["device", "address", "key", "fingerprint", "verdict"],
        [(r["device"], r["address"], r["key_type"], r["fingerprint"], r["verdict"]) for r in rows],
    )
    for judgement in judged:
        if judgement.verdict == Verdict.CHANGED:
            output.error(
                f"{judgement.target.device}: SSH HOST KEY CHANGED: pinned {', '.join(judgement.pinned_fingerprints)}, "
                f"presented {judgement.key_type} {judgement.fingerprint}. Someone may be impersonating it.",
                f"if it was reinstalled, check the new key on its console: rackctl trust {judgement.target.device} "
                "--replace",
            )
        elif judgement.verdict == Verdict.UNREACHABLE:
            output.error(f"{judgement.target.device}: {judgement.error}")
    if missing:
        output.error(f"no SSH address in the inventory: {targets.fold(missing)}")


def _show_pins(found: list[SshTarget], as_json: bool) -> None:
    rows = [{"device": t.device, "address": t.where, "pinned": _fingerprints(t)} for t in found]
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "Pinned SSH host keys",
        ["device", "address", "pinned"],
        [(r["device"], r["address"], ", ".join(r["pinned"]) or "-") for r in rows],
    )


def _fingerprints(target: SshTarget) -> list[str]:
    return Judgement(target, Verdict.SAME).pinned_fingerprints


def report_trusted(judged: list[Judgement]) -> None:
    """Tell what `--trust-new-keys` pinned (it is also in the operation log)."""
    for judgement in judged:
        output.note(
            f"trusted the SSH host key of {judgement.target.device} ({judgement.target.where}): "
            f"{judgement.key_type} {judgement.fingerprint}"
        )


def trust_new_keys(expression: str, command: str) -> None:
    """Before a command connects: pin the keys of the devices that have none (`--trust-new-keys`)."""
    app = state()
    settings = app.settings
    with transaction() as session:
        names = targets.resolve(session, expression)
    options = fanout.Options(settings.workers, settings.timeout, settings.retries)
    report_trusted(hostkeys.trust_new(app.database(), actor(), command, names, options))
