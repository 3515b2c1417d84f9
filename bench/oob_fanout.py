"""Power status over a simulated fleet: rackctl against FreeIPMI's ipmipower on the same BMCs.

    python bench/oob_fanout.py [--nodes 1000] [--rounds 3] [--timeout 3] [--redfish 96] [--cli]

    python bench/oob_fanout.py --cli --baseline /path/to/other/checkout   # before/after in the same rounds

Starts N ipmi_sim BMCs through the lab, then, in several rounds run alternately (medians reported):
  rackctl  `power status` over all N: with --cli the `rackctl power status @all` command end to end
           (a fresh process: start-up, inventory, reachability check, fan-out, log, the printed table);
           without it the service the CLI calls, in this process
  ipmipower `--stat` over the same hosts (IPMI 2.0, fan-out 64, credentials in a 0600 config file)
  floor    (with --cli) a Python process that imports SQLAlchemy's ORM, then runs that same ipmipower:
           the least any Python command that reads an SQL inventory first can take end to end
and the same with half of the BMCs dead (stopped). Target: rackctl no slower than ipmipower, and with
half the fleet dead finished within one per-target timeout plus two seconds. Then Redfish status over
--redfish sushy-tools BMCs. The load average is printed beside each figure; the ratio
rackctl/ipmipower is printed last.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import fleet
from rackctl import fanout, targets
from rackctl.lab import core, faults
from rackctl.services import power
from rackctl.services.bmc import run_on_nodes

Run = Callable[[], tuple[float, int]]
SRC = str(Path(__file__).resolve().parents[1] / "src")


def rackctl_status(built: fleet.Fleet, timeout: float, workers: int) -> tuple[float, int]:
    options = fanout.Options(workers=workers, timeout=timeout, retries=1)
    started = time.perf_counter()
    outcome = run_on_nodes(built.db, "bench", built.nodes, "power status", power.status, options)
    return time.perf_counter() - started, sum(r.ok for r in outcome.results)


def rackctl_cli_status(built: fleet.Fleet, timeout: float, src: str = SRC) -> tuple[float, int]:
    """`rackctl power status NODES` in a fresh process (rackctl's code from `src`), its table printed to a pipe."""
    env = {**os.environ, "RACKCTL_DB_URL": built.db.url, "PYTHONPATH": src, "RACKCTL_ACTOR": "bench"}
    # As installed: with its bytecode cached (a dev shell's PYTHONDONTWRITEBYTECODE=1 would make every
    # start compile rackctl's modules again, ~0.3 s of CPU no installed copy pays). measure() warms it up.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    nodes = targets.fold(built.nodes)
    argv = [sys.executable, "-m", "rackctl", "power", "status", nodes, "--timeout", f"{timeout:g}"]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()
    return elapsed, int(summary.split()[0]) if summary.split()[0].isdigit() else 0


def ipmipower_config(folder: Path, password: str) -> Path:
    """FreeIPMI settings with the password, readable by the owner only (never on a command line)."""
    path = folder / "freeipmi.conf"
    path.touch(mode=0o600)
    path.chmod(0o600)
    # NOTE(FreeIPMI): IPMI 2.0 against ipmi_sim needs the opensesspriv workaround.
    path.write_text(f"driver-type LAN_2_0\nworkaround-flags opensesspriv\nusername admin\npassword {password}\n")
    return path


# A Python process that imports SQLAlchemy's ORM (what any command reading the inventory needs) and then
# hands the whole job to ipmipower: the least a Python command with an SQL inventory can take end to end.
FLOOR = "import sqlalchemy.orm, subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], check=False).returncode)"


def ipmipower_status(addresses: list[str], config: Path, timeout: float, floor: bool = False) -> tuple[float, int]:
    argv = ["ipmipower", "--config-file", str(config), "--stat", "-F", "64"]
    argv += ["--session-timeout", str(int(timeout * 1000)), "-h", ",".join(addresses)]
    if floor:
        argv = [sys.executable, "-c", FLOOR, *argv]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    answered = sum(1 for line in done.stdout.splitlines() if line.endswith((": on", ": off")))
    return elapsed, answered


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (the rackctl command, ipmipower)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _jiffies() -> tuple[int, int]:
    """The whole machine's (busy, all) CPU ticks: how close a round came to using every core."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def measure(runs: dict[str, Run], rounds: int) -> dict[str, float]:
    """Each run once per round, alternating; prints the medians (wall, CPU, how busy the whole machine was:
    near 100% the round was short of CPU, simulated BMCs included), every round and the load average.

    CPU counts what the contender itself burns (not the simulated BMCs'): on a loaded machine wall time
    follows its CPU share, so the CPU ratio is the one that carries from machine to machine."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    counts: dict[str, list[int]] = {label: [] for label in runs}
    busy: dict[str, list[float]] = {label: [] for label in runs}
    loads = []
    for run in runs.values():  # one untimed round: caches (bytecode, ARP, the BMCs' own) as in daily use
        run()
    for _ in range(rounds):
        for label, run in runs.items():
            loads.append(os.getloadavg()[0])
            cpu, (busy_before, all_before) = _cpu(), _jiffies()
            elapsed, ok = run()
            cpus[label].append(_cpu() - cpu)
            busy_after, all_after = _jiffies()
            busy[label].append((busy_after - busy_before) / max(1, all_after - all_before))
            times[label].append(elapsed)
            counts[label].append(ok)
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(
            f"  {label:<34} median {medians[label]:6.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in values)}; "
            f"answered {min(counts[label])}-{max(counts[label])}); CPU median {statistics.median(cpus[label]):.2f} s; "
            f"machine busy {statistics.median(busy[label]):.0%}"
        )
    print(f"  load average during the rounds: {min(loads):.2f}-{max(loads):.2f} on {os.cpu_count()} CPUs")
    return medians


def ipmi_phase(args: argparse.Namespace, state_dir: Path) -> None:
    started = time.perf_counter()
    built = fleet.build(args.nodes)
    print(f"inventory of {args.nodes} nodes in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    lab = core.up(built.db, state_dir, core.LabOptions("bench", tuple(built.racks), hosts=False))
    print(f"lab up: {len(lab.bmcs)} ipmi_sim BMCs in {time.perf_counter() - started:.1f} s")
    try:
        password = Path(core.secret_file(lab, "bmc-password")).read_text().strip()
        config = ipmipower_config(Path(lab.secret_folder), password)
        addresses = [lab.bmcs[n].address for n in built.nodes]
        label = "rackctl power status" + (" (CLI)" if args.cli else " (service)")
        runs: dict[str, Run] = {
            label: (lambda: rackctl_cli_status(built, args.timeout))
            if args.cli
            else (lambda: rackctl_status(built, args.timeout, 64)),
            "ipmipower --stat": lambda: ipmipower_status(addresses, config, args.timeout),
        }
        floor_label = "floor: python+ORM, then ipmipower"
        if args.cli:
            runs[floor_label] = lambda: ipmipower_status(addresses, config, args.timeout, floor=True)
        if args.baseline:  # another checkout's rackctl in the same rounds: before/after at the same load
            base = str(Path(args.baseline).resolve() / "src")
            runs[f"baseline {args.baseline}"] = lambda: rackctl_cli_status(built, args.timeout, base)
        medians = measure(runs, args.rounds)
        healthy = medians[label] / medians["ipmipower --stat"]
        floor = medians.pop(floor_label, 0.0) / medians["ipmipower --stat"]
        runs.pop(floor_label, None)  # dead BMCs: ipmipower's own timeouts, nothing more to learn
        for name in built.nodes[::2]:
            faults.inject(lab.folder, name, "bmc-dead")
        print(f"half the fleet dead ({len(built.nodes[::2])} BMCs stopped), per-target timeout {args.timeout:g} s:")
        medians = measure(runs, args.rounds)
        verdict = "met" if medians[label] <= args.timeout + 2 else "MISSED"
        print(f"  target timeout + 2 s = {args.timeout + 2:g} s: {verdict}")
        print(f"ratio rackctl/ipmipower, healthy: {healthy:.2f}")
        print(f"ratio rackctl/ipmipower, half dead: {medians[label] / medians['ipmipower --stat']:.2f}")
        if args.cli:
            print(f"ratio floor/ipmipower, healthy: {floor:.2f} (least for Python reading an SQL inventory)")
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
        measure({"rackctl power status (Redfish)": lambda: rackctl_status(built, args.timeout * 3, 64)}, args.rounds)
    finally:
        core.down(built.db, state_dir, "bench-redfish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0, help="per-target timeout, seconds")
    parser.add_argument("--redfish", type=int, default=96, help="Redfish BMCs to measure (0: skip)")
    parser.add_argument("--cli", action="store_true", help="time the rackctl command end to end, not the service")
    parser.add_argument("--baseline", default="", help="with --cli: also time the rackctl of this checkout (a path)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("note: not root; the lab runs without namespaces (not needed here)")
    state_dir = Path(os.environ.get("RACKCTL_STATE_DIR", "/tmp/rackctl-bench-state"))
    ipmi_phase(args, state_dir)
    if args.redfish:
        redfish_phase(args, state_dir)


if __name__ == "__main__":
    main()
