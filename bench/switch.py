"""Time switch render, diff and push against lab peers and print ratios against a reference.

    python3 bench/switch.py            # needs root (network namespaces) and fakenos

Render: rackctl's intent + Jinja2 for every switch of 10 racks, against reading the same rows from the
inventory alone. Diff and push against two Linux-based switches in namespaces, against a bare netmiko
connect + `cat` of the configuration file (the least any tool must do over SSH); diff against a fakenos EOS.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from rackctl.inventory import devicetypes
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device, Site
from rackctl.inventory.schema import upgrade
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.lab.netns import ensure_keys, teardown
from rackctl.lab.switches import start_linux_switches
from rackctl.paths import data_dir
from rackctl.services.switch import ops
from rackctl.types import DeviceRole

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def inventory(folder: Path, racks: int) -> Database:
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    upgrade(db)
    with db.transaction() as session:
        devicetypes.import_files(session, [data_dir("devicetypes"), ROOT / "tests/data/switch/devicetypes"])
        session.add(Site(name="fra1"))
    template = load_template("h100-4node-air")
    for n in range(racks):
        with db.transaction() as session:
            create_racks(session, template, f"b{n:02d}", "fra1", "bench")
    return db


def bench_render(db: Database) -> None:
    with db.transaction() as session:
        names = list(
            session.scalars(select(Device.name).where(Device.role.in_([DeviceRole.LEAF, DeviceRole.MGMT_SWITCH])))
        )

    def ours() -> None:
        with db.transaction() as session:
            ops.jobs(session, names, need_endpoint=False)

    def reference() -> None:
        with db.transaction() as session:
            for device in session.scalars(select(Device).where(Device.name.in_(names))):
                [i.name for i in device.interfaces]

    a, b = timed(ours), timed(reference)
    print(f"render {len(names)} switches: {a:.3f}s; inventory read alone {b:.3f}s; ratio {a / b:.1f}x")


def bench_peers(folder: Path) -> None:
    keys = ensure_keys(folder / "keys")
    ports = [f"swp{i}" for i in (1, 2, 3, 31, 32)]
    switches = start_linux_switches("rkbn", [("leaf-bn-a", ports), ("leaf-bn-b", ports)], folder, keys, 7100)
    try:
        text = (ROOT / "tests/data/switch/expected/linux/leaf-lx-a.cfg").read_text()
        jobs = [
            ops.SwitchJob(
                s.host.name,
                "linux",
                text.replace("leaf-lx", "leaf-bn"),
                s.host.address,
                22,
                "root",
                "",
                s.endpoint_options_for(keys.client),
            )
            for s in switches
        ]
        from rackctl.drivers.switch_netmiko import NetmikoSwitch

        def reference() -> None:
            for job in jobs:
                with NetmikoSwitch(job.endpoint(), "linux") as switch:
                    switch.send(f"cat {job.options['config_path']}")

        def push() -> None:
            for s in switches:
                s.config_file.write_text("auto lo\niface lo inet loopback\n")
            for job in jobs:
                ops.push_one(job, folder / "state")

        ref = timed(reference)
        diff = timed(lambda: [ops.diff_one(j) for j in jobs])
        pushed = timed(push, runs=3)
        print(
            f"2 Linux switches: connect+cat {ref:.3f}s; diff {diff:.3f}s ({diff / ref:.1f}x); "
            f"push (backup, apply, verify, confirm) {pushed:.3f}s ({pushed / ref:.1f}x)"
        )
    finally:
        teardown("rkbn", [s.host.pid for s in switches])


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("bench/switch.py needs root for network namespaces")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_render(inventory(folder, 10))
        bench_peers(folder)


if __name__ == "__main__":
    main()
