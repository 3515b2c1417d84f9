"""`pdu readings` over a fleet of simulated PDUs, against net-snmp's snmpbulkwalk of the same tables.

Every PDU answers a real PDU's recorded walk (tests/data/pdu/walks, one snmpsim per family, so ten
agents carry the fleet's requests). rackctl runs its readings service on every PDU of an inventory
(identity and every level: one GETBULK pass per table, several columns per request). The reference
runs `snmpbulkwalk` of every table those columns live in, PDU after PDU table after table, with the
same number of PDUs at once. Both read the same agents; the ratio (rackctl / net-snmp) is printed last.

python3 bench/pdu.py [--pdus 100] [--workers 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.audit import inventory as audit_inventory
from rackctl import fanout
from rackctl.drivers.pdu_families import families
from rackctl.inventory.db import Database
from rackctl.inventory.edits import DeviceChanges, update_devices
from rackctl.inventory.models import Device
from rackctl.lab import processes, recorded, snmp
from rackctl.lab.plan import free_loopback
from rackctl.services import pdu
from rackctl.types import DeviceRole

COMMUNITY = "bench"
# Apart from the block labs and tests take PDU addresses from (UDP agents that bind an address another
# agent holds would steal its requests).
BENCH_NET = ipaddress.IPv4Network("127.3.192.0/18")
SECRET_ENV = "RACKCTL_BENCH_PDU_COMMUNITY"


@dataclass(frozen=True)
class Agent:
    family: str
    address: str
    port: int


def start_agents(folder: Path, count: int) -> tuple[list[Agent], list[int]]:
    """One snmpsim per family answering its recorded walk as recorded, on count / families addresses
    (every PDU has its own address, as in an inventory)."""
    port = snmp.agent_port()
    names = sorted(recorded.LAB_WALKS)
    addresses = free_loopback(BENCH_NET, count, port)
    agents, pids = [], []
    for i, family in enumerate(names):
        mine = addresses[i :: len(names)]
        text = "".join(f"{o}|{t}|{v}\n" for o, t, v in recorded.records(recorded.LAB_WALKS[family]))
        pids.append(snmp.serve_walks(folder / family, mine, port, {COMMUNITY: text}))
        agents += [Agent(family, address, port) for address in mine]
    silent = snmp.wait_answering([(a.address, a.port, COMMUNITY) for a in agents], timeout=300)
    if silent:
        processes.stop(pids)
        raise SystemExit(
            f"snmpsim did not answer on {len(silent)} addresses, e.g. {silent[0]}: see {folder}/*/snmpsim.log"
        )
    return agents, pids


def inventory(folder: Path, count: int, agents: list[Agent]) -> tuple[Database, dict[str, Agent]]:
    """Racks of four PDUs each; PDU i answers at agents[i], its platform that agent's family."""
    db = audit_inventory(folder, count)  # count / 4 H100 racks: four PDUs each
    placed: dict[str, Agent] = {}
    with db.transaction() as session:
        pdus = session.scalars(select(Device).where(Device.role == DeviceRole.PDU).order_by(Device.name)).all()
        for i, device in enumerate(pdus[:count]):
            agent = agents[i]
            changes = DeviceChanges(
                mgmt_address=agent.address,
                mgmt_port=agent.port,
                mgmt_credential=f"env:{SECRET_ENV}",
                platform=agent.family,
            )
            update_devices(session, [device], changes, "bench")
            assert device.mgmt is not None
            device.mgmt.options = {"timeout": 5, "retries": 0}  # as snmpbulkwalk -t 5 -r 0 below
            placed[device.name] = agent
    return db, placed


def tables(family: str) -> list[str]:
    """The tables (entry OIDs) whose columns rackctl reads for a family."""
    fam = families()[family]
    columns = [c for t in fam.levels.values() for c in t.columns()]
    columns += [fam.outlets.state] if fam.outlets else []
    oids = [c.oid for c in columns] + [o for oids in fam.identity.values() for o in oids]
    return sorted({oid.rsplit(".", 1)[0] for oid in oids})


def rackctl_readings(db: Database, names: list[str], workers: int) -> float:
    options = fanout.Options(workers=workers, timeout=600, retries=0)
    started = time.perf_counter()
    results = pdu.readings(db, ",".join(names), options)
    seconds = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"rackctl: {len(failed)} PDU(s) failed, e.g. {failed[0].target}: {failed[0].message}")
    return seconds


def netsnmp_walks(placed: dict[str, Agent], workers: int) -> float:
    def one(agent: Agent) -> None:
        for table in tables(agent.family):
            target = f"{agent.address}:{agent.port}"
            argv = ["snmpbulkwalk", "-v2c", "-c", COMMUNITY, "-On", "-Cr24", "-t", "5", "-r", "0", target, table]
            subprocess.run(argv, check=True, capture_output=True, timeout=120)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, placed.values()))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdus", type=int, default=100)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ[SECRET_ENV] = COMMUNITY
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="rackctl-bench-pdu-") as tmp:
        folder = Path(tmp)
        agents, pids = start_agents(folder, args.pdus)
        try:
            db, placed = inventory(folder, args.pdus, agents)
            names = sorted(placed)
            ours, theirs = [], []
            for _ in range(args.runs):  # alternate, so both see the same machine load
                ours.append(rackctl_readings(db, names, args.workers))
                theirs.append(netsnmp_walks(placed, args.workers))
                loads.append(os.getloadavg()[0])
        finally:
            processes.stop(pids)
    tables_walked = sum(len(tables(a.family)) for a in placed.values())
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    agents_n = len(recorded.LAB_WALKS)
    print(f"PDUs: {len(placed)} (each its own address, {agents_n} snmpsim agents), {args.workers} at once", end="")
    print(f", {args.runs} runs (medians), load {min(loads):.1f}-{max(loads):.1f}")
    print(f"rackctl pdu readings (identity + every level): {ours_s:.2f} s")
    print(f"net-snmp snmpbulkwalk of the same {tables_walked} tables:  {theirs_s:.2f} s")
    print(f"ratio rackctl / net-snmp: {ours_s / theirs_s:.2f}")


if __name__ == "__main__":
    main()
