"""A 1,000-node lab (1,000 ipmi_sim BMCs and 1,000 SSH hosts in namespaces) comes up and goes down
without leaving a process, namespace or address behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench import fleet

from rackctl.lab import core, netns, processes

NODES = 1000


def _addresses_in(prefix_net: str) -> list[str]:
    listed = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    return [line for line in listed.splitlines() if prefix_net in line]


def test_a_thousand_node_lab_leaves_nothing_behind(tmp_path: Path) -> None:
    built = fleet.build(NODES, folder=tmp_path)
    state_dir = tmp_path / "state"
    before = {line.split()[3] for line in _addresses_in("10.250.")}
    started = time.monotonic()
    lab = core.up(built.db, state_dir, core.LabOptions("scale", tuple(built.racks), hosts=True))
    up_s = time.monotonic() - started
    try:
        assert len(lab.bmcs) == NODES and len(lab.hosts) == NODES
        assert all(processes.alive(pid) for pid in lab.all_pids())
        assert len(netns.namespaces(lab.prefix)) == NODES
    finally:
        pids, prefix = lab.all_pids(), lab.prefix
        started = time.monotonic()
        problems = core.down(built.db, state_dir, "scale")
        down_s = time.monotonic() - started
    print(f"\n1,000-node lab: up {up_s:.1f} s, down {down_s:.1f} s")
    assert problems == []
    assert [p for p in pids if processes.alive(p)] == []
    assert netns.namespaces(prefix) == [] and netns.links(prefix) == []
    assert {line.split()[3] for line in _addresses_in("10.250.")} <= before
