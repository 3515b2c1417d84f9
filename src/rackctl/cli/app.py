"""The `rackctl` command: global options and the table of commands.

Adding a command or a command group: add one line to COMMANDS below,

    "name": Lazy("rackctl.cli.module:attribute", "The one line `rackctl --help` shows."),

where `attribute` is a `typer.Typer` (a group: `rackctl name verb ...`) or a command function
(`rackctl name ...`). The module is imported only when its command runs (or shows its own help), so
keep heavy imports (SQLAlchemy, drivers, jinja2, ansible ...) out of this file and out of the modules
it imports; `tests/cli/test_startup.py` fails if `rackctl --help` imports them and if a summary here
differs from the command's own help. Order here is the order of `rackctl --help`.
"""

from __future__ import annotations

import gc
from types import MappingProxyType
from typing import Annotated

import typer

from rackctl.cli.common import AppState, RackctlGroup, begin
from rackctl.cli.lazy import Lazy, LazyGroup

COMMANDS = MappingProxyType(
    {
        "init": Lazy(
            "rackctl.cli.setup:init", "Create (or upgrade) the inventory database and import the shipped device types."
        ),
        "info": Lazy(
            "rackctl.cli.setup:info",
            "Print where the inventory lives, its schema version and what it holds (creates nothing).",
        ),
        "db": Lazy("rackctl.cli.setup:db_app", "The inventory database itself: schema upgrades, operator grants."),
        "validate": Lazy(
            "rackctl.cli.reports:validate_cmd",
            "Check U space, power per PDU and feed (80% derating), A/B redundancy, cooling, cabling, duplicates.",
        ),
        "log": Lazy(
            "rackctl.cli.reports:log_cmd",
            "Show what happened, newest first: operations (who ran what on which targets, each result) and"
            " inventory changes (who changed which object, field by field: before -> after).",
        ),
        "demo": Lazy(
            "rackctl.cli.demo:demo",
            "Build a rack from a template, bring up its simulators, power it on in sequence, recover a hung BMC at"
            " the PDU, then tear everything down (nothing of yours is touched; under two minutes).",
        ),
        "provision": Lazy(
            "rackctl.cli.provision:provision_cmd",
            "Converge nodes to their profile's pinned stack (driver, Fabric Manager, CUDA, DCGM, network, serving).",
        ),
        "bringup": Lazy(
            "rackctl.cli.provision:bringup_cmd",
            "BMC -> PXE once -> staggered power-on -> SSH -> provision -> burn-in -> validated; resumable per node.",
        ),
        "site": Lazy("rackctl.cli.racks:site_app", "Sites (data centres, colocation cages)."),
        "rack": Lazy("rackctl.cli.racks:rack_app", "Racks: create from templates, list, draw, delete."),
        "device": Lazy(
            "rackctl.cli.devices:device_app", "Devices: list, show, change state and identity, rename, move, remove."
        ),
        "devicetype": Lazy(
            "rackctl.cli.devices:devicetype_app", "The hardware catalogue (NetBox devicetype-library format)."
        ),
        "profile": Lazy("rackctl.cli.devices:profile_app", "Profiles: the software and firmware a device should run."),
        "import": Lazy("rackctl.cli.reports:import_app", "Import data into the inventory."),
        "export": Lazy("rackctl.cli.reports:export_app", "Export the inventory for other tools."),
        "power": Lazy("rackctl.cli.power:power_app", "Power through the BMCs: status, on, off, soft, cycle, reset."),
        "boot": Lazy("rackctl.cli.power:boot_app", "Next boot device through the BMCs."),
        "identify": Lazy(
            "rackctl.cli.power:identify_cmd",
            "Turn the identify LED on (or --off) so a technician can find the node in the row.",
        ),
        "sensors": Lazy(
            "rackctl.cli.bmc:sensors_cmd", "Temperatures, fans, PSU input power and state, with their health."
        ),
        "console": Lazy(
            "rackctl.cli.console:console_cmd",
            "Attach to a node's serial console (IPMI Serial over LAN). End with ~. at the start of a line.",
        ),
        "sel": Lazy("rackctl.cli.bmc:sel_app", "BMC event logs (IPMI SEL, Redfish LogService)."),
        "bmc": Lazy(
            "rackctl.cli.bmc:bmc_app",
            "BMC facts and accounts: hardware inventory, protocol detection, users, password rotation.",
        ),
        "firmware": Lazy(
            "rackctl.cli.firmware:firmware_app",
            "Firmware: inventory, plan and staged updates to the profile's baseline.",
        ),
        "bios": Lazy(
            "rackctl.cli.bios:bios_app",
            "BIOS settings: read them, compare with the profile, apply (pending until a reboot).",
        ),
        "media": Lazy(
            "rackctl.cli.media:media_app",
            "Virtual media: insert an ISO (URL or local file), eject it, show what is inserted.",
        ),
        "lab": Lazy("rackctl.cli.lab:lab_app", "Simulated racks: real BMC, PDU and SSH simulators on loopback."),
        "pdu": Lazy("rackctl.cli.pdu:pdu_app", "PDU outlets: status, on, off, cycle; readings; feed verification."),
        "plan": Lazy(
            "rackctl.cli.plan:plan_app",
            "Capacity and cost planning: GPUs for a model, racks and kW for a template, cloud against owned.",
        ),
        "switch": Lazy(
            "rackctl.cli.switch:switch_app", "Switch configuration from the inventory: render, diff, push, back up."
        ),
        "cabling": Lazy("rackctl.cli.switch:cabling_app", "Check that cables are where the plan says."),
        "audit": Lazy(
            "rackctl.cli.audit:audit_app",
            "Compare devices with the inventory: BMC, host, switch, cabling, PDU. Exit 0 clean, 1 drift,"
            " 2 not audited.",
        ),
        "worker": Lazy(
            "rackctl.cli.jobs:worker_cmd",
            "Run queued jobs for some sites and kinds until SIGINT/SIGTERM (needs a PostgreSQL inventory).",
        ),
        "jobs": Lazy("rackctl.cli.jobs:jobs_app", "Jobs on the task queue: list, show, cancel, retry."),
        "trust": Lazy(
            "rackctl.cli.trust:trust_cmd",
            "Show each device's SSH host key fingerprint and pin it after confirmation; changed keys are refused.",
        ),
    }
)


class RootGroup(LazyGroup, RackctlGroup):
    """rackctl's root: the commands of COMMANDS, imported on use; errors as one line."""

    table = COMMANDS


app = typer.Typer(
    name="rackctl",
    cls=RootGroup,
    help="Bring GPU inference racks up from the inventory, control them out of band, keep them true to plan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help costs ~0.15 s of imports per command
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool | None) -> None:
    if value:
        from rackctl import __version__

        typer.echo(f"rackctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Annotated[str | None, typer.Option("--db", envvar="RACKCTL_DB_URL", help="Inventory database URL.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, envvar="RACKCTL_DB_WAIT", help="Seconds to wait for another writer's lock."),
    ] = 30.0,
    version: Annotated[
        bool | None,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print rackctl's version and exit."),
    ] = None,
) -> None:
    begin(AppState(db_url=db, debug=debug, wait=wait))


# A command allocates many small objects that live until it ends (a fan-out's sessions and results): at
# CPython's default (700) the collector ran ~400 times and took ~0.15 s of CPU in `power status` over
# 1,000 BMCs; at this threshold ~0.03 s. Cycles are still collected, in longer-running workers too.
GC_THRESHOLD = (20_000, 50, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    app()
