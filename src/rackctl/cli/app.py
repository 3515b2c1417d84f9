"""The `rackctl` command: global options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from rackctl.cli import (
    audit,
    bmc,
    console,
    demo,
    devices,
    lab,
    pdu,
    power,
    provision,
    racks,
    reports,
    setup,
    switch,
    trust,
)
from rackctl.cli.common import AppState, RackctlGroup, begin
from rackctl.cli.plan import plan_app

app = typer.Typer(
    name="rackctl",
    cls=RackctlGroup,
    help="Bring GPU inference racks up from the inventory, control them out of band, keep them true to plan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    db: Annotated[str | None, typer.Option("--db", envvar="RACKCTL_DB_URL", help="Inventory database URL.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    begin(AppState(db_url=db, debug=debug))


app.command("init")(setup.init)
app.command("info")(setup.info)
app.command("validate")(reports.validate_cmd)
app.command("log")(reports.log_cmd)
app.command("demo")(demo.demo)
app.command("provision")(provision.provision_cmd)
app.command("bringup")(provision.bringup_cmd)
app.add_typer(racks.site_app, name="site")
app.add_typer(racks.rack_app, name="rack")
app.add_typer(devices.device_app, name="device")
app.add_typer(devices.devicetype_app, name="devicetype")
app.add_typer(devices.profile_app, name="profile")
app.add_typer(reports.import_app, name="import")
app.add_typer(reports.export_app, name="export")
app.add_typer(power.power_app, name="power")
app.add_typer(power.boot_app, name="boot")
app.command("identify")(power.identify_cmd)
app.command("sensors")(bmc.sensors_cmd)
app.command("console")(console.console_cmd)
app.add_typer(bmc.sel_app, name="sel")
app.add_typer(bmc.bmc_app, name="bmc")
app.add_typer(lab.lab_app, name="lab")
app.add_typer(pdu.pdu_app, name="pdu")
app.add_typer(plan_app, name="plan")
app.add_typer(switch.switch_app, name="switch")
app.add_typer(switch.cabling_app, name="cabling")
app.add_typer(audit.audit_app, name="audit")
app.command("trust")(trust.trust_cmd)


def main() -> None:
    app()
