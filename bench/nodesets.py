"""Node-set resolution in the inventory against ClusterShell's own NodeSet expansion of the same expression.

    python bench/nodesets.py [--nodes 100000] [--runs 3]

An in-memory SQLite inventory gets --nodes devices named n1..nN (one bulk insert). Each run times, side
by side: `list(NodeSet("n[1-N]"))` (the reference: ClusterShell alone), `targets.resolve(session,
"n[1-N]")` (expansion, de-duplication and the existence check in chunked IN queries), and
`resolve("@all")` (a group: the stored names, never parsed again). Medians are printed with the load
average; the ratio printed last is resolve(n[1-N]) / ClusterShell. Goal: N = 100,000 within 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet
from sqlalchemy import insert

from rackctl import targets
from rackctl.inventory.db import Base, Database
from rackctl.inventory.models import Device, DeviceType


def inventory(nodes: int) -> Database:
    db = Database("sqlite://")
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:
        dtype = DeviceType(slug="bench-1u", manufacturer="Bench", model="1U")
        session.add(dtype)
        session.flush()
        rows = [{"name": f"n{i}", "device_type_id": dtype.id, "role": "gpu-node"} for i in range(1, nodes + 1)]
        session.execute(insert(Device), rows)
    return db


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    expression = f"n[1-{args.nodes}]"
    db = inventory(args.nodes)
    with db.transaction() as session:
        results = {
            "ClusterShell NodeSet (reference)": timed(
                lambda: list(NodeSet(expression, resolver=RESOLVER_NOGROUP)), args.runs
            ),
            f"rackctl resolve {expression}": timed(lambda: targets.resolve(session, expression), args.runs),
            "rackctl resolve @all": timed(lambda: targets.resolve(session, "@all"), args.runs),
        }
    print(f"nodes: {args.nodes:,}  runs: {args.runs}  load average: {os.getloadavg()[0]:.2f}")
    for label, seconds in results.items():
        print(f"  {label:<40} {seconds:8.3f} s")
    reference = results["ClusterShell NodeSet (reference)"]
    print(f"ratio resolve/ClusterShell: {results[f'rackctl resolve {expression}'] / reference:.2f}")


if __name__ == "__main__":
    main()
