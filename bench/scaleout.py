"""Audit a simulated fleet through the task queue with 1, 2 and 4 workers, against the same per-rack work
run directly in-process; print the ratios and the queue's coordination overhead per job.

The reference is rackctl's own in-process path: `audit(db, "@rack:R", ...)` for each rack, one after the
other, in this process - exactly the call each queued job makes. Each queued round defers one job per
rack (`rackctl audit --queue`'s path), and `rackctl worker` processes (one job at a time each) run them;
a round ends when the last job is final. Overhead per job = (1 worker's time - direct time) / jobs: what
deferring, fetching, starting a job, recording its state and following it cost over the work itself.

scripts/with-postgres python3 bench/scaleout.py [--nodes 200] [--workers 1 2 4]
(the lab needs root: ipmi_sim BMCs on loopback addresses.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import fleet
from rackctl.inventory.models import AuditRun
from rackctl.jobs import fleet as queued
from rackctl.jobs import follow
from rackctl.jobs.queue import ensure_schema
from rackctl.lab import core
from rackctl.services.audit.run import AuditOptions, audit
from rackctl.types import Layer

SRC = str(Path(__file__).resolve().parents[1] / "src")
OPTIONS = AuditOptions(layers=(Layer.BMC,), workers=64, timeout=30.0, retries=1)
BOUND_S = 1800.0


def direct(built: fleet.Fleet) -> float:
    started = time.perf_counter()
    for rack in built.racks:
        report = audit(built.db, f"@rack:{rack}", OPTIONS, "bench")
        assert not report.not_audited, report.not_audited[:3]
    return time.perf_counter() - started


def _worker_env(built: fleet.Fleet, state_dir: Path) -> dict[str, str]:
    return {**os.environ, "RACKCTL_DB_URL": built.db.url, "PYTHONPATH": SRC, "RACKCTL_ACTOR": "bench",
            "RACKCTL_STATE_DIR": str(state_dir)}  # fmt: skip


def _start(count: int, env: dict[str, str], folder: Path) -> list[subprocess.Popen[bytes]]:
    started = []
    for number in range(count):
        log = (folder / f"worker-{count}-{number}.log").open("wb")
        argv = [sys.executable, "-m", "rackctl", "worker", "--site", "fleet", "--queues", "audit",
                "--concurrency", "1", "--name", f"bench-{number}"]  # fmt: skip
        started.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
    for number in range(count):
        _until(lambda n=number: "Starting worker" in (folder / f"worker-{count}-{n}.log").read_text())
    return started


def _until(condition: object) -> None:
    ends = time.monotonic() + 120
    while not condition() and time.monotonic() < ends:  # type: ignore[operator]
        time.sleep(0.1)


def _work_s(built: fleet.Fleet, ended: list[follow.Ended]) -> float:
    """The seconds the jobs' audits themselves took (each run's own start to end, as recorded)."""
    runs = follow.audit_run_ids(built.db, ended)
    with built.db.transaction() as session:
        rows = [session.get(AuditRun, run_id) for run_id in runs.values()]
        return sum((r.finished_at - r.started_at).total_seconds() for r in rows if r is not None)


def through_queue(built: fleet.Fleet, count: int, env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Seconds from deferring the first job to the last one final, and the seconds of work inside the jobs."""
    processes = _start(count, env, folder)
    try:
        started = time.perf_counter()
        jobs = queued.audit_jobs(built.db.url, built.db, built.nodes, OPTIONS, "bench")
        ended = follow.wait(built.db.url, jobs, BOUND_S)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=120)
    report = queued.audit_report(built.db, ended, "bench", OPTIONS)
    assert {e.status for e in ended} == {"succeeded"}, [e.status for e in ended]
    assert not report.not_audited, report.not_audited[:2]
    return elapsed, _work_s(built, ended)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    url = os.environ.get("RACKCTL_PG_URL") or sys.exit("run it under scripts/with-postgres (the queue needs it)")
    state_dir = Path(os.environ.get("RACKCTL_STATE_DIR", "/tmp/rackctl-bench-state"))
    built = fleet.build(args.nodes, url=url)
    ensure_schema(url)
    core.up(built.db, state_dir, core.LabOptions("scaleout", tuple(built.racks), hosts=False))
    print(f"{args.nodes} IPMI nodes in {len(built.racks)} racks (one job per rack), load {os.getloadavg()[0]:.2f}")
    try:
        # Untimed: the simulators just started, and this process has not yet loaded the BMC drivers.
        audit(built.db, f"@rack:{built.racks[0]}", OPTIONS, "bench")
        reference = direct(built)
        print(f"direct, in-process, rack after rack: {reference:.2f} s")
        times = {}
        for count in args.workers:
            times[count], work = through_queue(built, count, _worker_env(built, state_dir), built.folder)
            print(f"{count} worker(s): {times[count]:.2f} s  direct/queued {reference / times[count]:.2f}"
                  f"  (the audits inside the jobs: {work:.2f} s)")  # fmt: skip
            if count == 1:
                per_job = (times[1] - work) / len(built.racks)
                print(f"  coordination per job (1 worker: wall time - the jobs' audits): {per_job * 1000:.0f} ms"
                      f" = {(times[1] - work) / work * 100:.1f}% of the work")  # fmt: skip
        if 1 in times:
            print(f"1 worker against the direct run: {(times[1] / reference - 1) * 100:+.1f}% (load-dependent noise)")
        print(f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    finally:
        core.down(built.db, state_dir, "scaleout")


if __name__ == "__main__":
    main()
