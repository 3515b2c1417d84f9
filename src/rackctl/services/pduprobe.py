"""`rackctl pdu probe`: which MIB family each PDU speaks and what it is, found on the PDU and stored.

The driver detects the family (sysObjectID, then each family's own objects) unless the inventory
names one; the probe then reads identity and readings once and counts units, outlets, phases and
banks. Recording sets the platform where it was `auto` (or unset) and keeps the rest in the
device's facts under `pdu`; a platform the PDU contradicts is reported, not overwritten.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from rackctl import fanout
from rackctl.drivers.base import PduMeter, PduProbe
from rackctl.drivers.pdu_families import AUTO, family_for
from rackctl.errors import Unsupported
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.services.bmc import Outcome, record, require
from rackctl.services.pdu import PduTarget, driver_for, load_jobs


@dataclass(frozen=True)
class Probed:
    """One PDU's probe, and what the inventory said or now says about its platform."""

    pdu: str
    probe: PduProbe
    platform: str = ""  # the inventory's platform after recording
    note: str = ""


def describe(value: Probed) -> str:
    p, ident = value.probe, value.probe.identity
    kind = ", ".join(k for k, on in (("switched", p.switched), ("metered", p.metered)) if on) or "neither"
    chain = f"{p.units} units, " if p.units > 1 else ""
    text = (
        f"{p.vendor} {ident.model or '?'} serial {ident.serial or '-'} firmware {ident.firmware or '-'}: "
        f"{p.family} ({p.mib}); {chain}{p.outlets} outlets, {p.phases} phases, {p.banks} banks; {kind}"
    )
    return f"{text}; {value.note}" if value.note else text


def probe_one(target: PduTarget) -> Probed:
    with driver_for(target) as pdu:
        require(pdu, PduMeter)
        return Probed(target.name, pdu.probe())


def _store(db: Database, probed: Probed) -> Probed:
    """Keep the probe in the device's facts; set the platform where the inventory left it to detection."""
    with db.transaction() as session:
        device = queries.device(session, probed.pdu)
        device.facts = {**(device.facts or {}), "pdu": asdict(probed.probe) | {"seen": utcnow().isoformat()}}
        current = (device.platform or "").strip()
        if not current or current.lower() == AUTO:
            device.platform = probed.probe.family
            return replace(probed, platform=probed.probe.family, note=f"platform set to {probed.probe.family}")
        try:
            named = family_for(current).name
        except Unsupported:
            named = ""
        if named != probed.probe.family:
            note = f"the inventory says platform '{current}', the PDU speaks {probed.probe.family}: left as it is"
            return replace(probed, platform=current, note=note)
        return replace(probed, platform=current)


def probe(db: Database, actor: str, spec: str, options: fanout.Options, store: bool = True) -> list[fanout.Result[Any]]:
    """Probe every PDU of the spec (one result each), store what was found, log the operation."""
    with db.transaction() as session:
        jobs = load_jobs(session, spec)
    results = fanout.run(lambda job: probe_one(job.target), jobs, [j.target.name for j in jobs], options)
    if store:
        results = [replace(r, value=_store(db, r.value)) if r.ok and r.value else r for r in results]
    record(db, actor, Outcome(f"pdu probe {spec}", results))
    return results
