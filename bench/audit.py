"""Audit the host and cabling layers of a simulated fleet of H100 nodes; print the times.

Each node is a lab host (a network namespace with OpenSSH's sshd and a persona answering like the
inventory's node). rackctl's audit (probe over paramiko, parse, compare, store) is set against the
reference: OpenSSH's own client running the same probe on every host with the same fan-out, with no
parsing, comparison or storage. The BMC layer joins when the BMC drivers land.

sudo python bench/audit.py [--hosts 50 200] [--workers 64]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from rackctl.drivers.hostfacts.probe import SCRIPT
from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.lab import hostlab
from rackctl.paths import data_dir
from rackctl.services.audit.jobs import SshAccess
from rackctl.services.audit.run import AuditOptions, audit
from rackctl.types import Layer

PREFIX = "rkab"


def inventory(folder: Path, nodes: int) -> Database:
    db = Database(f"sqlite:///{folder / 'inventory.db'}")
    upgrade(db)
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes")])
        session.add(Site(name="bench"))
    template = load_template("h100-4node-air")
    for number in range(1, (nodes + 3) // 4 + 1):
        with db.transaction() as session:
            create_racks(session, template, f"b{number:03d}", "bench", "bench")
    return db


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def openssh(lab: hostlab.HostLab, workers: int) -> float:
    """The reference: `ssh HOST sh -s < probe` on every host, `workers` at once."""
    args = ["-i", str(lab.keys.client), "-o", f"UserKnownHostsFile={lab.known_hosts}", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes"]  # fmt: skip
    script = SCRIPT.read_bytes()

    def probe(address: str) -> int:
        done = subprocess.run(["ssh", *args, f"root@{address}", "sh -s -- '' '' ''"], input=script,
                              capture_output=True, timeout=120, check=False)  # fmt: skip
        return done.returncode

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(probe, [h.address for h in lab.hosts.values()]))
    elapsed = time.perf_counter() - started
    if any(codes):
        print(f"  (openssh: {sum(1 for c in codes if c)} host(s) failed)")
    return elapsed


def run(nodes: int, workers: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="rackctl-bench-audit-"))
    db = inventory(folder, nodes)
    with db.transaction() as session:
        names = list(session.scalars(select(Device.name).where(Device.role == "gpu-node").order_by(Device.name)))
        plans = hostlab.plans_from_inventory(session, names[:nodes])
    started = time.perf_counter()
    lab = hostlab.start(PREFIX, folder / "lab", plans)
    lab_up = time.perf_counter() - started
    try:
        with db.transaction() as session:
            hostlab.point_inventory(session, lab)
        options = AuditOptions(layers=(Layer.HOST, Layer.CABLING), workers=workers, timeout=60.0,
                               ssh=SshAccess("root", str(lab.keys.client), str(lab.known_hosts)))  # fmt: skip
        target = ",".join(names[:nodes])
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = audit(db, target, options, "bench")
        rackctl_s, rackctl_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        reference_s = openssh(lab, workers)
    finally:
        lab.stop()
    print(f"{nodes} hosts, {workers} at once (lab up in {lab_up:.1f} s)")
    print(f"  rackctl audit --layers host,cabling: {rackctl_s:6.2f} s  ({len(report.findings)} findings, "
          f"{len(report.not_audited)} not audited)")  # fmt: skip
    print(f"  openssh, same probe, no parsing:     {reference_s:6.2f} s")
    print(
        f"  rackctl's own CPU: {rackctl_cpu:.2f} s, {rackctl_cpu / nodes * 1000:.1f} ms per host "
        "(the rest is the hosts' probes, which here share this machine's cores)"
    )
    print(f"  ratio rackctl/openssh:               {rackctl_s / reference_s:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    for nodes in args.hosts:
        run(nodes, args.workers)


if __name__ == "__main__":
    main()
