"""Node-set resolution in the inventory against ClusterShell's own NodeSet expansion of the same expression.

    python bench/nodesets.py [--nodes 100000] [--runs 3]

An in-memory SQLite inventory gets --nodes devices named n1..nN (one bulk insert). Each run times, side
by side: `list(NodeSet("n[1-N]"))` (the reference: ClusterShell alone), `targets.resolve(session,
"n[1-N]")` (expansion, de-duplication and the existence check in chunked IN queries), and
`resolve("@all")` (a group: the stored names, never parsed again), in alternating rounds. Medians of wall
and CPU time are printed with the load average; the ratios printed last are resolve(n[1-N]) / ClusterShell
(CPU first: on a loaded machine wall time measures the load). Goal: N = 100,000 within 1 s.
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


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    expression = f"n[1-{args.nodes}]"
    db = inventory(args.nodes)
    load = os.getloadavg()[0]
    with db.transaction() as session:
        runs: dict[str, Callable[[], object]] = {
            "ClusterShell NodeSet (reference)": lambda: list(NodeSet(expression, resolver=RESOLVER_NOGROUP)),
            f"rackctl resolve {expression}": lambda: targets.resolve(session, expression),
            "rackctl resolve @all": lambda: targets.resolve(session, "@all"),
        }
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
        for _ in range(args.runs):  # alternating rounds: a change of load hits every contender alike
            for label, fn in runs.items():
                samples[label].append(timed(fn))
    print(f"nodes: {args.nodes:,}  runs: {args.runs}  load average: {load:.2f} -> {os.getloadavg()[0]:.2f}")
    medians = {label: [statistics.median(s[i] for s in got) for i in (0, 1)] for label, got in samples.items()}
    for label, (wall, cpu) in medians.items():
        print(f"  {label:<40} {wall:8.3f} s wall {cpu:8.3f} s CPU")
    ref_wall, ref_cpu = medians["ClusterShell NodeSet (reference)"]
    wall, cpu = medians[f"rackctl resolve {expression}"]
    print(f"ratio resolve/ClusterShell: CPU {cpu / ref_cpu:.2f}, wall {wall / ref_wall:.2f}")


if __name__ == "__main__":
    main()
