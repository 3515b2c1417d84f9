"""Host reboots that BMC-side changes need (new BIOS or device firmware, staged BIOS settings), in the waves
the power sequencing plans: a rebooting GPU node draws its inrush again, so a batch never reboots more
at once than the PDUs and feeds can carry (the same plan `rackctl power on --sequence` uses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rackctl import fanout
from rackctl.errors import CommandError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import power, sequence
from rackctl.services.bmc import execute, load_targets, with_driver
from rackctl.types import PowerAction


def reboot_in_waves(
    db: Database, names: Sequence[str], options: fanout.Options, max_per_wave: int, wait_s: float
) -> list[fanout.Result[Any]]:
    """Power cycle the nodes wave by wave (a node that is off is powered on); one result per node."""
    if not names:
        return []
    with db.transaction() as session:
        devices = queries.devices(session, names)
        loads, limits, others = sequence.loads_for(session, devices)
        targets, refused, _ = load_targets(session, names)
    plan = sequence.plan_waves(loads, limits, others, max_per_wave)
    by_name = {t.name: t for t in targets}
    results: list[fanout.Result[Any]] = list(refused)
    options = fanout.Options(options.workers, max(options.timeout, wait_s + 30.0), 0)
    for wave in plan.waves:
        wave_targets = [by_name[name] for name in wave.devices if name in by_name]
        operation = with_driver(power.action(PowerAction.CYCLE, wait_s, boot_if_off=True))
        done = execute(f"reboot wave {wave.number}", wave_targets, operation, options).results
        results += [_in_wave(result, wave.number) for result in done]
    for device, why in plan.blocked:
        results.append(fanout.Result(device, error=CommandError(f"not rebooted: {why}"), attempts=0))
    return results


def _in_wave(result: fanout.Result[Any], number: int) -> fanout.Result[Any]:
    """The result with the wave the node rebooted in, so the log shows the sequencing that was followed."""
    if not isinstance(result.value, power.PowerResult):
        return result
    return replace(result, value=replace(result.value, detail={**result.value.detail, "wave": number}))
