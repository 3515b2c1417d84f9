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
from rackctl.services.oob import Mismatch, apply_inventory
from rackctl.services.oplog import TargetResult


def update_inventory(db: Database, actor: str, results: Sequence[fanout.Result[Any]], update: bool) -> list[Mismatch]:
    """Compare each node's report with the inventory; with `update`, record it (one transaction)."""
    mismatches: list[Mismatch] = []
    with db.transaction() as session:
        for result in (r for r in results if r.ok):
            mismatches += apply_inventory(session, result.target, result.value, update)
        if update:
            logged = [TargetResult(r.target, r.ok, "recorded" if r.ok else r.message) for r in results]
            oplog.record(session, actor, "bmc inventory --update", logged)
    return mismatches


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
