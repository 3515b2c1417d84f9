"""Audit the host and cabling layers of a simulated fleet of H100 nodes; print the times.

Each node is a lab host (a network namespace with OpenSSH's sshd and a persona answering like the
inventory's node). rackctl's audit (probe over paramiko, parse, compare, store) is set against the
reference: OpenSSH's own client running the same probe, with the same arguments (each host's interfaces,
units and health URL), on every host with the same fan-out, with no parsing, comparison or storage. Then
the BMC layer over --bmcs simulated IPMI BMCs (ipmi_sim through the lab), against FreeIPMI's ipmipower
reading just the power state of the same BMCs.

sudo python bench/audit.py [--hosts 50 200] [--bmcs 1000] [--workers 64]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from rackctl.drivers.host_ssh import probe_command
from rackctl.drivers.hostfacts.probe import SCRIPT
from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.lab import hostlab
from rackctl.paths import data_dir
from rackctl.services.audit.jobs import SshAccess, build_plan
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


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def openssh(lab: hostlab.HostLab, workers: int, commands: dict[str, str]) -> float:
    """The reference: `ssh HOST sh -s -- ARGS < probe` on every host, `workers` at once, with the arguments
    rackctl's audit gives that host's probe (`commands`, by address: its interfaces, units, health URL)."""
    args = [
        "-i",
        str(lab.keys.client),
        "-o",
        f"UserKnownHostsFile={lab.known_hosts}",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
    ]
    script = SCRIPT.read_bytes()

    def probe(address: str) -> int:
        done = subprocess.run(
            ["ssh", *args, f"root@{address}", commands[address]],
            input=script,
            capture_output=True,
            timeout=120,
            check=False,
        )
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
        options = AuditOptions(
            layers=(Layer.HOST, Layer.CABLING),
            workers=workers,
            timeout=60.0,
            ssh=SshAccess("root", str(lab.keys.client)),  # host keys: pinned in the inventory by point_inventory
        )
        target = ",".join(names[:nodes])
        with db.transaction() as session:
            plan = build_plan(session, names[:nodes], options.layers, options.ssh)
            commands = {job.endpoint.address: probe_command(job.request) for job in plan.hosts if job.endpoint}
        started, cpu = time.perf_counter(), _cpu_seconds()
        report = audit(db, target, options, "bench")
        rackctl_s, rackctl_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        children = _cpu_seconds(resource.RUSAGE_CHILDREN)
        reference_s = openssh(lab, workers, commands)
        reference_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - children  # the ssh clients
    finally:
        lab.stop()
    print(f"{nodes} hosts, {workers} at once (lab up in {lab_up:.1f} s)")
    print(
        f"  rackctl audit --layers host,cabling: {rackctl_s:6.2f} s  ({len(report.findings)} findings, "
        f"{len(report.not_audited)} not audited)"
    )
    print(f"  openssh, same probe and arguments:   {reference_s:6.2f} s")
    print(
        f"  rackctl's own CPU: {rackctl_cpu:.2f} s, {rackctl_cpu / nodes * 1000:.1f} ms per host "
        "(the rest is the hosts' probes, which here share this machine's cores)"
    )
    print(f"  the ssh clients' CPU: {reference_cpu:.2f} s, {reference_cpu / nodes * 1000:.1f} ms per host")
    print(f"  ratio rackctl/openssh: wall {rackctl_s / reference_s:.2f}, client CPU {rackctl_cpu / reference_cpu:.2f}")


def bmc_layer(nodes: int, workers: int) -> None:
    """`rackctl audit --layers bmc` over a fleet of simulated BMCs (identity, firmware, power, sensors, SEL)."""
    from bench import fleet
    from bench.oob_fanout import ipmipower_config, ipmipower_status
    from rackctl.lab import core

    built = fleet.build(nodes)
    state_dir = Path(tempfile.mkdtemp(prefix="rackctl-bench-audit-"))
    lab = core.up(built.db, state_dir, core.LabOptions("audit-bench", tuple(built.racks), hosts=False))
    try:
        started = time.perf_counter()
        report = audit(built.db, ",".join(built.nodes), AuditOptions(layers=(Layer.BMC,), workers=workers), "bench")
        ours = time.perf_counter() - started
        password = Path(core.secret_file(lab, "bmc-password")).read_text().strip()
        config = ipmipower_config(Path(lab.secret_folder), password)
        theirs, _ = ipmipower_status([lab.bmcs[n].address for n in built.nodes], config, 10.0)
        audited = sum(o.audited for o in report.outcomes)
        print(
            f"BMC layer, {nodes} BMCs: rackctl audit {ours:.1f} s ({audited} audited, "
            f"{len(report.not_audited)} not); ipmipower power status alone {theirs:.1f} s; "
            f"target under 60 s: {'met' if ours < 60 else 'MISSED'}"
        )
    finally:
        core.down(built.db, state_dir, "audit-bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--bmcs", type=int, default=1000, help="simulated BMCs for the BMC layer (0: skip)")
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    for nodes in args.hosts:
        run(nodes, args.workers)
    if args.bmcs:
        bmc_layer(args.bmcs, args.workers)


if __name__ == "__main__":
    main()
