"""Create and validate 100 racks from the H100 template; print the times.

python bench/inventory.py [--racks 100] [--runs 1] [--db URL]

With --runs N each run starts from an empty database and the fastest and the median are printed last:
this virtual machine's speed moves by a third from one quarter hour to the next, and the fastest run is
the one least disturbed by it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.inventory.validate import validate
from rackctl.paths import data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--racks", type=int, default=100)
    parser.add_argument("--template", default="h100-4node-air")
    parser.add_argument("--runs", type=int, default=1, help="runs, each from an empty database")
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    args = parser.parse_args()
    if args.db:
        run(args, args.db)
        return
    totals = []
    for _ in range(max(1, args.runs)):
        with tempfile.TemporaryDirectory(prefix="rackctl-bench-") as scratch:  # removed afterwards
            totals.append(run(args, f"sqlite:///{Path(scratch) / 'inventory.db'}"))
    if len(totals) > 1:
        fastest, median = min(totals), statistics.median(totals)
        print(f"{len(totals)} runs: fastest {fastest:.2f} s, median {median:.2f} s; <= 5 s: ratio {fastest / 5:.2f}")


def run(args: argparse.Namespace, url: str) -> float:
    """Create and validate the racks in the database at `url`; print the times; return the total, wall."""
    db = Database(url)
    upgrade(db)
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes")])
        session.add(Site(name="bench"))
    template = load_template(args.template)

    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    for number in range(1, args.racks + 1):
        with db.transaction() as session:
            create_racks(session, template, f"b{number:03d}", "bench", "bench")
    created, created_cpu = time.perf_counter() - started, time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    with db.transaction() as session:
        devices = list(session.scalars(select(Device)))
        checks = validate(session, devices)
    validated, validated_cpu = time.perf_counter() - started, time.process_time() - cpu
    failed = sum(not c.ok for c in checks)
    print(f"{args.racks} racks from {args.template} ({len(devices)} devices) on {db.engine.dialect.name}")
    print(f"  create:   {created:6.2f} s wall, {created_cpu:6.2f} s CPU  (one transaction per rack)")
    print(f"  validate: {validated:6.2f} s wall, {validated_cpu:6.2f} s CPU  ({len(checks)} checks, {failed} failed)")
    print(f"  load average {load:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    total, total_cpu = created + validated, created_cpu + validated_cpu
    print(
        f"create + validate: {total:.2f} s wall, {total_cpu:.2f} s CPU; goal <= 5 s: ratio {total / 5:.2f} of the goal"
    )
    db.dispose()
    return total


if __name__ == "__main__":
    main()
