"""Simulated PDUs: one snmpsim process per PDU, each on its own loopback address.

Each PDU serves the walk of its MIB family (lab/pduwalks.py) under the lab's SNMP community; its
live records (outlet state and commands, currents, power) go to the `rackpdu` variation module,
which runs lab/pdusim.py inside the snmpsim process. One process per PDU, because snmpsim shares
module state across the data files of a process. Faults: a hung agent, outlets that refuse
commands, extra load on a PDU.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

import rackctl
from rackctl.drivers.pdu_families import AUTO, family_for
from rackctl.errors import DriverError, Unsupported
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.powermodel import outlet_volts
from rackctl.lab import processes, recorded, state
from rackctl.lab.pduwalks import WALKS, PduSpec, snmprec
from rackctl.lab.plan import PDU_NET, NodePlan, free_loopback
from rackctl.lab.processes import LabError
from rackctl.lab.state import LabState
from rackctl.secrets import private_folder, write_private
from rackctl.types import Secret

BMC_KINDS = ("ipmi", "auto", "redfish")
CYCLE_DELAY_S = 2.0  # how long a cycled outlet stays off (real PDUs: 5-10 s, configurable)
VARIATION_MODULE = """\
# Written by the rackctl lab: hands the PDU's live records to rackctl.lab.pdusim.
from rackctl.lab import pdusim


def init(**context):
    pdusim.init(moduleContext, context.get("options") or "")


def variate(oid, tag, value, **context):
    return pdusim.variate(moduleContext, oid, tag, value, context)


def shutdown(**context):
    pdusim.shutdown(moduleContext)
"""


@dataclass(frozen=True)
class V3User:
    """An SNMPv3 user the simulator accepts (SHA authentication, AES privacy)."""

    name: str
    auth_key: str
    priv_key: str


def agent_port() -> int:
    """UDP 161 when the lab may bind it (root), an unprivileged port otherwise."""
    return 161 if os.geteuid() == 0 else 16100


def serve(
    folder: Path,
    address: str,
    port: int,
    community: str,
    walk: str,
    config: dict[str, Any] | None = None,
    v3: V3User | None = None,
) -> int:
    """Start snmpsim answering `walk` (snmprec text) for `community`; returns its PID.

    With `config`, live records are answered by the simulator; an SNMPv3 user reaches the same
    data with the community as context name.
    """
    return serve_walks(folder, address, port, {community: walk}, config, v3)


def serve_walks(
    folder: Path,
    address: str | Sequence[str],
    port: int,
    walks: dict[str, str],
    config: dict[str, Any] | None = None,
    v3: V3User | None = None,
) -> int:
    """Start one snmpsim answering each walk (snmprec text) under its own community, on one address
    or several (the same agent behind each); returns its PID."""
    private_folder(folder)  # the community names a data file, the SNMPv3 keys sit in the engine file
    for sub in ("data", "cache", "variation"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for community, walk in walks.items():
        (folder / "data" / f"{community}.snmprec").write_text(walk)
    argv = [sys.executable, "-m", "snmpsim.commands.responder", "--log-level=error"]
    argv += [f"--cache-dir={folder / 'cache'}"]  # a general option: on argv (not a secret)
    engine: list[str] = []
    if v3 is not None:
        engine += [f"--v3-user={v3.name}", f"--v3-auth-key={v3.auth_key}", "--v3-auth-proto=SHA"]
        engine += [f"--v3-priv-key={v3.priv_key}", "--v3-priv-proto=AES"]
    engine += [f"--data-dir={folder / 'data'}"]
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config, indent=1))
        (folder / "variation" / "rackpdu.py").write_text(VARIATION_MODULE)
        argv += [f"--variation-modules-dir={folder / 'variation'}"]
        argv += [f"--variation-module-options=rackpdu:config={folder / 'config.json'}"]
    engine += [f"--agent-udpv4-endpoint={a}:{port}" for a in ([address] if isinstance(address, str) else address)]
    # The SNMP engine's options (SNMPv3 keys among them) from an owner-only file: argv is public in `ps`.
    write_private(folder / "engine.args", "\n".join(engine) + "\n")
    argv += [f"--args-from-file={folder / 'engine.args'}"]
    source = str(Path(rackctl.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    # NOTE(snmpsim 1.x): it refuses to run as root unless told to, and would drop to a user that
    # cannot read this interpreter.
    env = os.environ | {"PYTHONPATH": path, "SNMPSIM_ALLOW_ROOT": "true"}
    return processes.start(argv, folder / "snmpsim.log", env=env)


# snmpsim loads pysnmp's MIBs as it starts: seconds of CPU each, and minutes for eight of them on a loaded
# two-core machine. A simulator that died is reported at once; one still starting gets this long.
PDU_START_TIMEOUT_S = 300.0


def wait_answering(
    agents: Sequence[tuple[str, int, str]],
    timeout: float = PDU_START_TIMEOUT_S,
    running: Callable[[str], bool] | None = None,
) -> list[str]:
    """Wait until every agent (address, port, community) answers a GET; returns those that never did.
    With `running` (address -> whether its simulator still runs), an agent whose process died is given up
    on at once rather than waited for until the timeout."""
    from rackctl.drivers.snmp import SnmpClient, SnmpTarget  # pysnmp only where PDUs are simulated

    clients = {
        address: SnmpClient(SnmpTarget(address, port, community=Secret(community), timeout=0.3, retries=0))
        for address, port, community in agents
    }

    dead: list[str] = []

    def ready() -> bool:
        for address, client in list(clients.items()):
            if running is not None and not running(address):
                dead.append(address)
                del clients[address]
                continue
            try:
                client.get(["1.3.6.1.2.1.1.5.0"])
                del clients[address]
            except DriverError:
                return False
        return True

    processes.wait_for(ready, timeout, 0.2)
    return dead + list(clients)


LAB_AUTO_FAMILY = "raritan"  # what the lab writes for a PDU whose platform is `auto`


def family_of(plan: NodePlan) -> str:
    """The MIB family a PDU's inventory platform names (empty when rackctl knows none)."""
    if (plan.platform or AUTO).lower() == AUTO:
        return LAB_AUTO_FAMILY
    try:
        return family_for(plan.platform).name
    except Unsupported:
        return ""


def _spec_and_config(
    session: Session, lab: LabState, plan: NodePlan, outlet_file: Callable[[LabState, str, int], str]
) -> tuple[PduSpec, dict[str, Any]]:
    device = queries.device(session, plan.name)
    outlets = sorted(device.outlets, key=lambda o: o.number)
    names = {o.number: f"{o.power_port.device.name} {o.power_port.name}" for o in outlets if o.power_port}
    volts = {o.number: outlet_volts(o) for o in outlets}
    spec = PduSpec(
        plan.name,
        family_of(plan),
        tuple(o.number for o in outlets),
        names,
        plan.serial,
        round(max(volts.values(), default=230.0)),
    )
    config = {
        "lab": str(lab.folder),
        "pdu": plan.name,
        "cycle_delay_s": CYCLE_DELAY_S,
        "outlets": {
            o.number: {
                "path": outlet_file(lab, plan.name, o.number),
                "phase": o.phase or "L1",
                "volts": volts[o.number],
                "bank": spec.bank_of(o.number),
            }
            for o in outlets
        },
    }
    return spec, config


def _loads(
    plans: Sequence[NodePlan], lab: LabState, outlet_file: Callable[[LabState, str, int], str]
) -> dict[str, Any]:
    """What draws power in the lab: nodes with a BMC (watts by name) and other gear (with its outlets)."""
    nodes = {p.name: p.draw_w for p in plans if p.protocol in BMC_KINDS}
    devices = [
        {"name": p.name, "draw_w": p.draw_w, "paths": [outlet_file(lab, pdu, n) for _, pdu, n in p.outlets]}
        for p in plans
        if p.protocol not in BMC_KINDS and p.outlets
    ]
    return {"nodes": nodes, "devices": devices}


def start_pdus(
    db: Database,
    lab: LabState,
    plans: Sequence[NodePlan],
    community_file: str,
    outlet_file: Callable[[LabState, str, int], str],
    replay: bool = False,
) -> None:
    """Start a simulator for every PDU among the plans and record it in the lab's state: the walk
    the lab writes for its family (live readings from the lab's loads), or, for a family the lab
    writes none for (or with `replay`), the family's recorded walk of a real PDU (lab/recorded.py)."""
    pdus = [p for p in plans if p.protocol == "snmp" and family_of(p)]
    unknown = [p.name for p in plans if p.protocol == "snmp" and p not in pdus]
    if unknown:
        lab.skipped.append(f"no PDU family for the platform of {', '.join(unknown)}")
    written = [p for p in pdus if family_of(p) in WALKS and not replay]
    replayed = _replayable(lab, [p for p in pdus if p not in written])
    if not written and not replayed:
        return
    community = Path(community_file).read_text().strip()
    port = agent_port()
    addresses = free_loopback(PDU_NET, len(written) + len(replayed), port)
    with db.transaction() as session:
        prepared = [_spec_and_config(session, lab, plan, outlet_file) for plan in written]
    loads = _loads(plans, lab, outlet_file)
    for (spec, config), address in zip(prepared, addresses, strict=False):
        _start_one(lab, spec, config | loads, address, port, community, community_file)
    for plan, address in zip(replayed, addresses[len(written) :], strict=True):
        _start_recorded(lab, plan, address, port, community, (community_file, outlet_file))
    state.save(lab)
    pids = {info["address"]: lab.pids.get(f"pdu:{name}") for name, info in lab.pdus.items()}
    silent = wait_answering(
        [(address, port, community) for address in pids],
        timeout=PDU_START_TIMEOUT_S,
        running=lambda address: (pid := pids[address]) is None or processes.alive(pid),
    )
    if silent:
        name = next(n for n, info in lab.pdus.items() if info["address"] == silent[0])
        said = processes.last_words(Path(lab.pdus[name]["folder"]) / "snmpsim.log")
        raise LabError(f"{len(silent)} simulated PDU(s) did not start, e.g. {name} at {silent[0]}: {said}")


def _replayable(lab: LabState, plans: list[NodePlan]) -> list[NodePlan]:
    """The plans whose family has a recorded walk here; the others are noted as skipped."""
    if not plans:
        return []
    try:
        recorded.walks_dir()
    except LabError as exc:
        lab.skipped.append(f"{', '.join(p.name for p in plans)}: {exc}")
        return []
    return [p for p in plans if family_of(p) in recorded.LAB_WALKS]


def _start_one(
    lab: LabState, spec: PduSpec, config: dict[str, Any], address: str, port: int, community: str, community_file: str
) -> None:
    folder = lab.folder / "pdu" / spec.name
    for outlet in config["outlets"].values():
        path = Path(outlet["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("1\n")  # PDUs ship with every outlet on
    lab.pids[f"pdu:{spec.name}"] = serve(folder, address, port, community, snmprec(spec), config)
    _record(lab, spec.name, {"family": spec.family, "folder": str(folder)}, address, port, community_file)


def _start_recorded(
    lab: LabState,
    plan: NodePlan,
    address: str,
    port: int,
    community: str,
    files: tuple[str, Callable[[LabState, str, int], str]],
) -> None:
    """A PDU answering its family's recorded walk; its outlets are the lab's outlet files."""
    community_file, outlet_file = files
    family, folder = family_of(plan), lab.folder / "pdu" / plan.name
    text, config = recorded.lab_pdu(
        family, folder, outlet_file=lambda n: outlet_file(lab, plan.name, n), lab=str(lab.folder)
    )
    lab.pids[f"pdu:{plan.name}"] = serve(folder, address, port, community, text, config)
    info = {"family": family, "folder": str(folder), "walk": recorded.LAB_WALKS[family]}
    _record(lab, plan.name, info, address, port, community_file)


def _record(lab: LabState, name: str, info: dict[str, str], address: str, port: int, community_file: str) -> None:
    lab.pdus[name] = {
        "address": address,
        "port": port,
        **info,
        "inventory": {"address": address, "port": port, "credential_ref": f"file:{community_file}"},
    }


# --- faults


def _pdu(lab_folder: Path, pdu: str) -> tuple[LabState, Path]:
    lab = state.load(lab_folder)
    if lab is None or pdu not in lab.pdus:
        raise LabError(f"no simulated PDU named '{pdu}' in the lab at {lab_folder}")
    return lab, Path(lab.pdus[pdu]["folder"])


def pdu_hung(lab_folder: Path, pdu: str, hung: bool = True) -> str:
    """Freeze the PDU's agent (it stops answering) or let it go on."""
    lab, _ = _pdu(lab_folder, pdu)
    os.kill(lab.pids[f"pdu:{pdu}"], signal.SIGSTOP if hung else signal.SIGCONT)
    return f"{pdu}: SNMP agent {'frozen' if hung else 'answering again'}"


def pdu_locked(lab_folder: Path, pdu: str, outlets: Sequence[int] = (), locked: bool = True) -> str:
    """Make the PDU refuse commands for the outlets (all of them when none are named), or accept them again."""
    _, folder = _pdu(lab_folder, pdu)
    if not locked:
        (folder / "locked").unlink(missing_ok=True)
        return f"{pdu}: outlets accept commands"
    which = " ".join(str(n) for n in outlets) or "all"
    (folder / "locked").write_text(which + "\n")
    return f"{pdu}: outlets {which} refuse commands"


def pdu_late(lab_folder: Path, pdu: str, seconds: float) -> str:
    """Make the PDU answer each outlet command `seconds` late (the command itself takes effect at once)."""
    _, folder = _pdu(lab_folder, pdu)
    (folder / "late_s").write_text(f"{seconds:g}\n")
    return f"{pdu}: outlet commands answered {seconds:g}s late"


def pdu_extra_load(lab_folder: Path, pdu: str, watts: float) -> str:
    """Add load the inventory does not know about (another tenant, a forgotten device) to a PDU."""
    _, folder = _pdu(lab_folder, pdu)
    (folder / "extra_w").write_text(f"{watts:g}\n")
    return f"{pdu}: {watts:g} W of extra load"
