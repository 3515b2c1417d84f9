"""Power status over a simulated fleet: rackctl against FreeIPMI's ipmipower on the same BMCs.

    python bench/oob_fanout.py [--nodes 1000] [--rounds 3] [--timeout 3] [--redfish 96]

Starts N ipmi_sim BMCs through the lab, then, in several rounds (medians reported):
  rackctl  `power status` over all N (the service the CLI calls: reachability check, fan-out, log)
  ipmipower `--stat` over the same hosts (IPMI 2.0, fan-out 64)
and the same with half of the BMCs dead (stopped). Target: rackctl no slower than ipmipower, and with
half the fleet dead finished within one per-target timeout plus two seconds. Then Redfish status over
--redfish sushy-tools BMCs. Prints the ratio rackctl/ipmipower.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import fleet
from rackctl import fanout
from rackctl.lab import core, faults
from rackctl.services import power
from rackctl.services.bmc import run_on_nodes


def rackctl_status(built: fleet.Fleet, timeout: float, workers: int) -> tuple[float, int]:
    options = fanout.Options(workers=workers, timeout=timeout, retries=1)
    started = time.perf_counter()
    outcome = run_on_nodes(built.db, "bench", built.nodes, "power status", power.status, options)
    return time.perf_counter() - started, sum(r.ok for r in outcome.results)


def ipmipower_status(addresses: list[str], password: str, timeout: float) -> tuple[float, int]:
    # NOTE(FreeIPMI): IPMI 2.0 against ipmi_sim needs -W opensesspriv.
    argv = [
        "ipmipower",
        "-D",
        "LAN_2_0",
        "-W",
        "opensesspriv",
        "-u",
        "admin",
        "-p",
        password,
        "--stat",
        "-F",
        "64",
        "--session-timeout",
        str(int(timeout * 1000)),
        "-h",
        ",".join(addresses),
    ]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    answered = sum(1 for line in done.stdout.splitlines() if line.endswith((": on", ": off")))
    return elapsed, answered


def measure(label: str, rounds: int, run: object) -> dict[str, float]:
    times, counts = [], []
    for _ in range(rounds):
        elapsed, ok = run()  # type: ignore[operator]
        times.append(elapsed)
        counts.append(ok)
    median = statistics.median(times)
    print(
        f"  {label:<34} median {median:6.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in times)}; "
        f"answered {min(counts)}-{max(counts)})"
    )
    return {"median": median}


def ipmi_phase(args: argparse.Namespace, state_dir: Path) -> None:
    started = time.perf_counter()
    built = fleet.build(args.nodes)
    print(f"inventory of {args.nodes} nodes in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    lab = core.up(built.db, state_dir, core.LabOptions("bench", tuple(built.racks), hosts=False))
    print(f"lab up: {len(lab.bmcs)} ipmi_sim BMCs in {time.perf_counter() - started:.1f} s")
    try:
        password = (lab.folder / "secrets" / "bmc-password").read_text().strip()
        addresses = [lab.bmcs[n].address for n in built.nodes]
        ours = measure("rackctl power status", args.rounds, lambda: rackctl_status(built, args.timeout, 64))
        theirs = measure("ipmipower --stat", args.rounds, lambda: ipmipower_status(addresses, password, args.timeout))
        print(f"  ratio rackctl/ipmipower: {ours['median'] / theirs['median']:.2f}")
        for name in built.nodes[::2]:
            faults.inject(lab.folder, name, "bmc-dead")
        print(f"half the fleet dead ({len(built.nodes[::2])} BMCs stopped), per-target timeout {args.timeout:g} s:")
        ours = measure("rackctl power status", args.rounds, lambda: rackctl_status(built, args.timeout, 64))
        theirs = measure("ipmipower --stat", args.rounds, lambda: ipmipower_status(addresses, password, args.timeout))
        verdict = "met" if ours["median"] <= args.timeout + 2 else "MISSED"
        print(
            f"  ratio rackctl/ipmipower: {ours['median'] / theirs['median']:.2f}; "
            f"target timeout + 2 s = {args.timeout + 2:g} s: {verdict}"
        )
    finally:
        started = time.perf_counter()
        problems = core.down(built.db, state_dir, "bench")
        print(f"lab down in {time.perf_counter() - started:.1f} s{': ' + '; '.join(problems) if problems else ''}")


def redfish_phase(args: argparse.Namespace, state_dir: Path) -> None:
    built = fleet.build(args.redfish, protocol="redfish")
    started = time.perf_counter()
    lab = core.up(built.db, state_dir, core.LabOptions("bench-redfish", tuple(built.racks), hosts=False))
    print(f"Redfish: {len(lab.bmcs)} sushy-tools BMCs up in {time.perf_counter() - started:.1f} s")
    try:
        measure("rackctl power status (Redfish)", args.rounds, lambda: rackctl_status(built, args.timeout * 3, 64))
    finally:
        core.down(built.db, state_dir, "bench-redfish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0, help="per-target timeout, seconds")
    parser.add_argument("--redfish", type=int, default=96, help="Redfish BMCs to measure (0: skip)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("note: not root; the lab runs without namespaces (not needed here)")
    state_dir = Path(os.environ.get("RACKCTL_STATE_DIR", "/tmp/rackctl-bench-state"))
    ipmi_phase(args, state_dir)
    if args.redfish:
        redfish_phase(args, state_dir)


if __name__ == "__main__":
    main()
