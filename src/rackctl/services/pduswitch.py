"""`pdu on|off|cycle` as an operation: outlets counted honestly, leased, logged before anything is switched.

The plan comes from `pduplan` (inventory only). A PDU whose outlets nobody lists is asked for them
before anything is confirmed, so a confirmation counts real outlets. Every outlet and every device it
powers is leased for the run: an outlet whose device another run holds fails with who holds it, the
others go on. The intent (every outlet label) is in the operation log before the first PDU is asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rackctl import fanout
from rackctl.drivers.base import OutletControl
from rackctl.errors import Busy, CommandError, RackctlError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import journal, leases, pdu
from rackctl.services.bmc import Outcome, require
from rackctl.services.pduplan import PlannedPdu
from rackctl.types import PowerAction

DOING = {PowerAction.ON: "switched on", PowerAction.OFF: "switched off", PowerAction.CYCLE: "cycled"}


def _outlet_numbers(job: pdu.Job) -> tuple[int, ...]:
    with pdu.driver_for(job.target) as device:
        require(device, OutletControl)
        return tuple(s.number for s in device.outlets(None))


def count_unknown(db: Database, planned: Sequence[PlannedPdu], options: fanout.Options) -> list[PlannedPdu]:
    """The plan with every PDU's outlets known: those nobody lists are read from the PDU (credential now).

    A PDU that cannot be read is refused as a whole: switching an unknown number of outlets is not offered.
    """
    unknown = [p for p in planned if not p.numbers]
    if not unknown:
        return list(planned)
    with db.transaction() as session:
        jobs = [pdu.Job(pdu.target_of(queries.device(session, p.name))) for p in unknown]
    read = {r.target: r for r in fanout.run(_outlet_numbers, jobs, [j.target.name for j in jobs], options)}
    counted = []
    for item in planned:
        result = read.get(item.name)
        if result is None:
            counted.append(item)
        elif result.ok and result.value:
            counted.append(item.counted(result.value))
        else:
            raise CommandError(
                f"cannot count the outlets of {item.name} ({result.message or 'it reports none'}): "
                "refusing to switch an unknown number of outlets",
                hint=f"name them, e.g. {item.name}:1-24",
            )
    return counted


def refusals(planned: Sequence[PlannedPdu], lease: leases.Held) -> dict[str, str]:
    """Outlet label -> why it may not be switched now: it, or a device it powers, is held by another run."""
    refused = {}
    for item in planned:
        for number in item.numbers:
            label = f"{item.name}:{number}"
            held = [lease.refused[d] for d in (label, *item.powers.get(number, ())) if d in lease.refused]
            if held:
                refused[label] = held[0] if held[0].startswith(label) else f"{label} powers {held[0]}"
    return refused


def _targets(db: Database, planned: Sequence[PlannedPdu]) -> tuple[list[pdu.Job], list[fanout.Result[Any]]]:
    """Jobs with their endpoints (secrets resolved now); a PDU whose endpoint fails fails its outlets only."""
    jobs: list[pdu.Job] = []
    failed: list[fanout.Result[Any]] = []
    with db.transaction() as session:
        for item in (p for p in planned if p.numbers):
            try:
                jobs.append(pdu.Job(pdu.target_of(queries.device(session, item.name)), item.numbers))
            except RackctlError as exc:
                failed += [fanout.Result(label, error=exc, attempts=0) for label in item.labels()]
    return jobs, failed


def switch(
    db: Database,
    actor: str,
    command: str,
    planned: Sequence[PlannedPdu],
    action: PowerAction,
    options: fanout.Options,
    wait_s: float,
) -> Outcome:
    """Lease, log the intent, switch; one logged result per planned outlet."""
    labels = [label for item in planned for label in item.labels()]
    subjects = labels + sorted({d for item in planned for d in item.affected()})
    with leases.held(db, subjects, DOING[action], actor) as lease:
        refused = refusals(planned, lease)
        allowed = [item.keep(lambda label: label not in refused) for item in planned]
        jobs, failed = _targets(db, allowed)
        with journal.opened(db, actor, command, labels) as log:
            early = [fanout.Result(label, error=Busy(why), attempts=0) for label, why in refused.items()] + failed
            for result in early:
                log.add(result)
            done = {r.target: r for r in [*early, *pdu.switch_jobs(jobs, action, log.observing(options), wait_s)]}
            results = [done[label] for label in labels]
            log.finish(results, interrupted=options.stop.reason if options.stop else "")
    return Outcome(command, results)
