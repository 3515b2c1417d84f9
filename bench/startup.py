"""Cold start of the `rackctl` command against bare Python and a one-command typer program, side by side.

    python bench/startup.py [--runs 7]

Each program is started --runs times, interleaved (so load changes hit all of them alike); medians of
wall time and of CPU time (user + system of the child) are printed, with the load average. Goal:
`rackctl --help` <= 0.25 s. The ratio printed last is rackctl --help / the typer baseline's --help.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
TYPER_HELLO = "\n".join(
    [
        "import typer",
        "app = typer.Typer()",
        "@app.command()",
        "def hello(name: str) -> None:",
        "    print(name)",
        "app()",
    ]
)

PROGRAMS = {
    "python3 -c pass": [sys.executable, "-c", "pass"],
    "typer one-command --help": [sys.executable, "-c", TYPER_HELLO, "--help"],
    "rackctl --help": [sys.executable, "-m", "rackctl", "--help"],
    "rackctl power --help": [sys.executable, "-m", "rackctl", "power", "--help"],
}


def once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `argv` (CPU: this child's user + system time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=_env())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": SRC + (os.pathsep + path if path else "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in PROGRAMS}
    for argv in PROGRAMS.values():
        once(argv)  # warm the page cache and .pyc files
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, argv in PROGRAMS.items():
            samples[name].append(once(argv))
    load_after = os.getloadavg()[0]
    load = f"load average {load_before:.2f} -> {load_after:.2f}, {os.cpu_count()} CPUs"
    print(f"cold start, median of {args.runs} ({load})")
    medians = {}
    for name, runs in samples.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        medians[name] = (wall, cpu)
        print(f"  {name:<26} wall {wall:5.3f} s   cpu {cpu:5.3f} s")
    wall, cpu = medians["rackctl --help"]
    base_wall, base_cpu = medians["typer one-command --help"]
    print(f"goal rackctl --help <= 0.250 s: wall {wall:.3f} s, cpu {cpu:.3f} s")
    print(f"ratio rackctl --help / typer one-command --help: wall {wall / base_wall:.2f}x, cpu {cpu / base_cpu:.2f}x")


if __name__ == "__main__":
    main()
