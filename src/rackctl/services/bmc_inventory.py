"""Write what BMCs report back into the inventory, and find out which protocol each BMC speaks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from rackctl import fanout
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.services import oplog
from rackctl.services.bmc import endpoint_of, probe_protocol
from rackctl.services.oob import InventoryCheck, apply_inventory
from rackctl.services.oplog import TargetResult


def update_inventory(db: Database, actor: str, results: Sequence[fanout.Result[Any]], update: bool) -> InventoryCheck:
    """Compare each node's report with the inventory; with `update`, record it (one transaction).

    A value the inventory cannot take (a placeholder serial) is left out for that node, with the reason, and
    everything else is still recorded."""
    checked = InventoryCheck()
    logged = []
    with db.transaction() as session:
        for result in results:
            if not result.ok or result.value is None:
                logged.append(TargetResult(result.target, False, result.message))
                continue
            one = apply_inventory(session, result.target, result.value, update)
            checked.mismatches += one.mismatches
            checked.skipped += one.skipped
            message = "; ".join(["recorded", *(str(s) for s in one.skipped)])
            logged.append(TargetResult(result.target, True, message))
        if update:
            oplog.record(session, actor, "bmc inventory --update", logged)
    return checked


def detect_protocols(
    db: Database, actor: str, names: Sequence[str], options: fanout.Options
) -> list[fanout.Result[Any]]:
    """Probe Redfish, then IPMI, on each node's BMC address and record what answered."""
    with db.transaction() as session:
        endpoints = [endpoint_of(d) for d in queries.devices(session, names)]
    results = fanout.run(lambda e: probe_protocol(e, timeout=options.timeout), endpoints, list(names), options)
    with db.transaction() as session:
        for result in results:
            device = session.scalars(select(Device).where(Device.name == result.target)).one()
            if result.ok and device.mgmt is not None:
                device.mgmt.detected_protocol = result.value
        oplog.record(
            session,
            actor,
            "bmc probe",
            [TargetResult(r.target, r.ok, str(r.value) if r.ok else r.message) for r in results],
        )
    return results
