"""Redfish power status over sushy-tools BMCs: rackctl against a plain concurrent HTTPS client, side by side.

    python bench/redfish_fanout.py [--nodes 96] [--rounds 3] [--timeout 30] [--cli]

Starts N emulated BMCs through the lab (sushy-tools, 24 systems per process, TLS), then per round, in
turn (medians reported, load average beside them):
  rackctl      `power status` over all N: the service the CLI calls (reachability check, fan-out, one
               driver per BMC, operation log), or with --cli the `rackctl power status` command itself
  plain HTTPS  the same requests rackctl's driver sends for it (service root, Systems, the system, HTTP
               Basic) from a pool of 64 threads, one keep-alive requests.Session per BMC
The ratio rackctl / plain client is printed last (goal: within 1.5x).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import fleet
from bench.oob_fanout import Run, measure, rackctl_cli_status, rackctl_status
from rackctl.lab import core


def plain_status(bases: list[str], password: str, workers: int = 64) -> tuple[float, int]:
    """Power state of every BMC with bare requests: GET root, GET Systems, GET the member."""

    def one(base: str) -> bool:
        # NOTE(lab): the lab BMCs' certificate is self-signed and rackctl's lab endpoints skip verification
        # too; per request, since a session's verify setting loses to REQUESTS_CA_BUNDLE from the environment.
        tls = {"verify": False, "timeout": 30}
        with requests.Session() as http:
            http.auth = ("admin", password)
            http.get(f"{base}/redfish/v1/", **tls).raise_for_status()
            members = http.get(f"{base}/redfish/v1/Systems", **tls).json()["Members"]
            system = http.get(base + members[0]["@odata.id"], **tls).json()
            return system.get("PowerState") in ("On", "Off")

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        answered = sum(pool.map(lambda b: _quietly(one, b), bases))
    return time.perf_counter() - started, answered


def _quietly(fn: object, base: str) -> bool:
    try:
        return bool(fn(base))  # type: ignore[operator]
    except (requests.RequestException, KeyError, IndexError, ValueError) as exc:
        print(f"    plain client, {base}: {type(exc).__name__}: {exc}"[:200], file=sys.stderr)
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0, help="per-target timeout, seconds")
    parser.add_argument("--cli", action="store_true", help="time the rackctl command end to end, not the service")
    args = parser.parse_args()
    state_dir = Path(os.environ.get("RACKCTL_STATE_DIR", "/tmp/rackctl-bench-state"))
    built = fleet.build(args.nodes, protocol="redfish")
    started = time.perf_counter()
    lab = core.up(built.db, state_dir, core.LabOptions("bench-redfish", tuple(built.racks), hosts=False))
    print(f"{len(lab.bmcs)} sushy-tools BMCs up in {time.perf_counter() - started:.1f} s")
    try:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        password = Path(core.secret_file(lab, "bmc-password")).read_text().strip()
        bases = [f"https://{lab.bmcs[n].address}:{lab.bmcs[n].port}" for n in built.nodes]
        label = "rackctl power status" + (" (CLI)" if args.cli else " (service)")
        runs: dict[str, Run] = {
            label: (lambda: rackctl_cli_status(built, args.timeout))
            if args.cli
            else (lambda: rackctl_status(built, args.timeout, 64)),
            "plain HTTPS client, 64 threads": lambda: plain_status(bases, password),
        }
        medians = measure(runs, args.rounds)
        print(f"ratio rackctl/plain client: {medians[label] / medians['plain HTTPS client, 64 threads']:.2f}")
    finally:
        core.down(built.db, state_dir, "bench-redfish")


if __name__ == "__main__":
    main()
