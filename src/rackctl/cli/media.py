"""`rackctl media insert|eject|status`: the BMCs' virtual CD (then `rackctl boot cd --once`)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from rackctl.cli import changes, output
from rackctl.cli.common import DryRunOption, JsonOption, YesOption, actor, state
from rackctl.cli.fanout_view import (
    RetriesOption,
    TargetsArg,
    TimeoutOption,
    WorkersOption,
    fanout_options,
    report,
    run_nodes,
)
from rackctl.cli.power import parse_duration
from rackctl.services.bmc import media

media_app = typer.Typer(help="Virtual media: insert an ISO (URL or local file), eject it, show what is inserted.",
                        no_args_is_help=True)  # fmt: skip

ImageOption = Annotated[str, typer.Option("--image", help="An http(s) URL, or a local file rackctl serves.")]


@media_app.command("status")
def status_cmd(
    target: TargetsArg,
    image: Annotated[str, typer.Option("--image", help="Also say whether this image is the one inserted.")] = "",
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
) -> None:
    """Each BMC's virtual media slots: inserted or not, and which image."""
    results = run_nodes("media status", target, media.read_media, fanout_options(workers, timeout, retries))
    if not as_json:
        rows = [
            (r.target, s.id, ",".join(s.media_types), "yes" if s.inserted else "no", s.image, _holds(s, image))
            for r in results
            if r.ok
            for s in r.value
        ]
        output.table("Virtual media", ["node", "slot", "types", "inserted", "image", "is --image"], rows)
    report("Virtual media", results, as_json, describe=lambda slots: f"{sum(s.inserted for s in slots)} inserted")


def _holds(slot: Any, image: str) -> str:
    return "" if not image else "yes" if slot.inserted and slot.image.endswith(image.rsplit("/", 1)[-1]) else "no"


@media_app.command("insert")
def insert_cmd(
    target: TargetsArg,
    image: ImageOption,
    sha256: Annotated[str, typer.Option("--sha256", help="Refuse a local file whose sha256 differs.")] = "",
    serve_for: Annotated[
        str,
        typer.Option("--serve-for", help="How long a local file stays served for the BMCs (Ctrl-C ends)."),
    ] = "1h",
    batch: changes.BatchOption = 16,
    allow_in_service: changes.InServiceOption = False,
    serve_address: changes.ServeAddressOption = "",
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """Insert an ISO into every node's virtual CD (read-only); a local file is served from this machine."""
    database, names = state().database(), changes.bmc_nodes(target)
    touched = media.touchable(database, names, allow_in_service)
    changes.ask(f"insert {image} into the virtual CD of", touched, len(names) - len(touched), dry_run, yes)
    seconds = parse_duration(serve_for, "--serve-for")
    rollout = changes.rollout(batch, 1.0, allow_in_service)
    options = media.MediaOptions(rollout, sha256, changes.cache_dir(), serve_address, lambda: _hold(seconds))
    fan = fanout_options(workers, timeout, 0, extra_time=60.0)
    results = media.insert_run(database, actor(), f"media insert {target}", names, image, options, fan)
    changes.show("Virtual media insert", results, as_json)


def _hold(seconds: float) -> None:
    """Keep serving the local file while the nodes boot from it (Ctrl-C stops early)."""
    if seconds <= 0:
        return
    output.note(f"serving the image for {seconds:g}s; Ctrl-C stops serving")
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        output.note("stopped serving the image")


@media_app.command("eject")
def eject_cmd(
    target: TargetsArg,
    image: Annotated[str, typer.Option("--image", help="Only where this image is inserted.")] = "",
    allow_in_service: changes.InServiceOption = False,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
    workers: WorkersOption = None,
    timeout: TimeoutOption = None,
) -> None:
    """Eject the virtual CD (asks first)."""
    database, names = state().database(), changes.bmc_nodes(target)
    touched = media.touchable(database, names, allow_in_service)
    changes.ask("eject the virtual CD of", touched, len(names) - len(touched), dry_run, yes)
    operation = media.eject_if(image) if image else media.eject
    rollout = changes.rollout(16, 1.0, allow_in_service)
    fan = fanout_options(workers, timeout, 0)
    results = media.change_run(database, actor(), f"media eject {target}", names, lambda _t: operation, rollout, fan)
    changes.show("Virtual media eject", results, as_json)
