"""`rackctl lab ...`: a simulated rack from the inventory for rehearsals, the demo and the tests."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from rackctl.cli import output
from rackctl.cli.common import EXIT_FAILED, JsonOption, state
from rackctl.lab import core, faults
from rackctl.lab import state as state_module

lab_app = typer.Typer(help="Simulated racks: real BMC, PDU and SSH simulators on loopback.", no_args_is_help=True)

NameOption = Annotated[str, typer.Option("--name", help="Which lab (several can run side by side).")]


@lab_app.command("up")
def lab_up(
    racks: Annotated[list[str] | None, typer.Argument(help="Racks to simulate (default: all).")] = None,
    name: NameOption = "default",
    hosts: Annotated[bool, typer.Option("--hosts/--no-hosts", help="SSH hosts in network namespaces.")] = True,
    recorded_pdus: Annotated[
        bool, typer.Option("--recorded-pdus", help="Every PDU answers a real PDU's recorded walk of its family.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start simulators for every device of the racks and point the inventory at them. PDUs of a
    family the lab writes no walk for answer a recorded walk of a real PDU of that family."""
    app = state()
    started = time.monotonic()
    options = core.LabOptions(
        name, tuple(racks or ()), hosts, recorded_pdus, secret_dir=app.settings.resolved_secret_dirs[0]
    )
    lab = core.up(app.database(), app.settings.resolved_state_dir, options)
    seconds = time.monotonic() - started
    summary = {
        "name": lab.name,
        "bmcs": len(lab.bmcs),
        "pdus": len(lab.pdus),
        "hosts": len(lab.hosts),
        "seconds": round(seconds, 2),
        "skipped": lab.skipped,
        "ssh_key": lab.ssh_key or None,
        "known_hosts": lab.known_hosts or None,
    }
    if as_json:
        output.emit_json(summary)
        return
    output.line(
        f"lab '{lab.name}' up in {seconds:.1f}s: {len(lab.bmcs)} BMCs, {len(lab.pdus)} PDUs, {len(lab.hosts)} SSH hosts"
    )
    for note in lab.skipped:
        output.note(f"skipped: {note}")
    if lab.hosts:
        output.note(
            f"hosts accept root with the key {lab.ssh_key}: export RACKCTL_SSH_KEY={lab.ssh_key} "
            "(their SSH host key is pinned in the inventory)"
        )


@lab_app.command("down")
def lab_down(name: NameOption = "default") -> None:
    """Stop everything the lab started and put the inventory back as it was."""
    app = state()
    started = time.monotonic()
    problems = core.down(app.database(require=False), app.settings.resolved_state_dir, name)
    for problem in problems:
        output.error(problem)
    if problems:
        raise typer.Exit(EXIT_FAILED)
    output.line(f"lab '{name}' down in {time.monotonic() - started:.1f}s: nothing left running")


@lab_app.command("status")
def lab_status(name: NameOption = "default", as_json: JsonOption = False) -> None:
    """What the lab runs and whether each simulator is alive."""
    lab, running = core.status(state().settings.resolved_state_dir, name)
    rows = [
        {
            "endpoint": b.device,
            "kind": b.kind,
            "address": f"{b.address}:{b.port}",
            "pid": b.pid,
            "running": running.get(b.device, False),
            "fault": lab.faults.get(b.device),
        }
        for b in lab.bmcs.values()
    ]
    rows += [
        {
            "endpoint": h,
            "kind": "ssh host",
            "address": f"{info['address']}:22",
            "pid": info["pid"],
            "running": running.get(h, False),
            "fault": None,
        }
        for h, info in lab.hosts.items()
    ]
    rows += [
        {
            "endpoint": name,
            "kind": f"snmp ({info['family']})",
            "address": f"{info['address']}:{info['port']}",
            "pid": lab.pids.get(f"pdu:{name}", 0),
            "running": running.get(f"pdu:{name}", False),
            "fault": lab.faults.get(name),
        }
        for name, info in lab.pdus.items()
    ]
    if as_json:
        output.emit_json({"name": lab.name, "endpoints": rows, "skipped": lab.skipped})
        return
    output.table(
        f"Lab '{lab.name}'",
        ["endpoint", "kind", "address", "pid", "running", "fault"],
        [
            (
                r["endpoint"],
                r["kind"],
                r["address"],
                r["pid"],
                output.status(r["running"], "yes", "NO"),
                r["fault"] or "",
            )
            for r in rows
        ],
    )
    if not all(r["running"] for r in rows if not r["fault"]):
        raise typer.Exit(EXIT_FAILED)


@lab_app.command("fault")
def lab_fault(
    device: Annotated[str, typer.Argument(help="Simulated device, e.g. gpu-r12-u03.")],
    fault: Annotated[str, typer.Argument(help="One of: " + ", ".join(faults.FAULTS) + ".")],
    name: NameOption = "default",
) -> None:
    """Inject a fault into one simulated device (rehearsals, tests)."""
    folder = state_module.lab_folder(state().settings.resolved_state_dir, name)
    faults.inject(folder, device, fault)
    output.line(f"{device}: {fault}")


@lab_app.command("heal")
def lab_heal(
    device: Annotated[str | None, typer.Argument(help="Device to heal (default: every faulty one).")] = None,
    name: NameOption = "default",
) -> None:
    """Undo injected faults."""
    folder = state_module.lab_folder(state().settings.resolved_state_dir, name)
    healed = faults.heal(folder, device)
    output.line(f"healed: {', '.join(healed)}" if healed else "nothing to heal")
