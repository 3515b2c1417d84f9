"""Bring a simulated rack up from the inventory, report on it, and take it down without leftovers.

`up` starts every simulator in parallel, waits until each answers, then points the inventory at the
simulators (keeping the old values). A failure at any step stops what was started and restores the
inventory before the error is raised. `down` stops exactly what the state file lists.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

from rackctl.config import load_settings
from rackctl.inventory.db import Database
from rackctl.lab import hostlab, ipmi, netns, processes, redfish, snmp, state
from rackctl.lab.plan import (
    IPMI_NET,
    NodePlan,
    devices_named,
    free_loopback,
    plan_lab,
    restore_inventory,
    write_host_address,
    write_mgmt,
)
from rackctl.lab.processes import LabError
from rackctl.lab.state import LabState, SimulatedBmc
from rackctl.paths import child
from rackctl.secrets import private_folder, write_private
from rackctl.services import hostkeys
from rackctl.types import DeviceRole

LAB_USER = "admin"
SIMULATED = ("ipmi", "auto", "redfish", "snmp")


@dataclass(frozen=True)
class LabOptions:
    name: str = "default"
    racks: tuple[str, ...] = ()
    hosts: bool = True  # network-namespace SSH hosts for GPU nodes (needs root)
    replay_pdus: bool = False  # every PDU answers its family's recorded walk of a real PDU
    secret_dir: Path | None = None  # where the lab keeps its secrets: default the first of `secret_dirs`


def is_root() -> bool:
    return os.geteuid() == 0


def secret_file(lab: LabState, name: str) -> str:
    """A lab secret in an owner-only file (0600 from its first byte); the inventory stores only `file:<path>`."""
    path = Path(lab.secret_folder) / name
    if not path.exists():
        write_private(path, token_urlsafe(12) + "\n")
    return str(path)


def _secret_folder(options: LabOptions, lab: LabState) -> str:
    """An owner-only folder for this lab inside the secret folders, so its `file:` references resolve."""
    root = options.secret_dir or load_settings().resolved_secret_dirs[0]
    return str(private_folder(private_folder(root) / f"lab-{lab.name}-{lab.prefix}"))


def up(db: Database, state_dir: Path, options: LabOptions) -> LabState:
    """Start the lab for the racks (all racks when none are named)."""
    folder = state.lab_folder(state_dir, options.name)
    with state.locked(folder) as existing:
        if existing is not None:
            raise LabError(f"lab '{options.name}' is already up", hint="rackctl lab down, or --name for another lab")
        lab = LabState(options.name, str(folder), state.new_prefix(), db_url=db.url, racks=list(options.racks))
        try:
            lab.secret_folder = _secret_folder(options, lab)
            _start(db, lab, options)
        except BaseException:
            _stop(db, lab)
            _remove(lab)
            raise
        state.save(lab)
        return lab


def _start(db: Database, lab: LabState, options: LabOptions) -> None:
    with db.transaction() as session:
        plans = plan_lab(session, list(options.racks))
    if not plans:
        raise LabError("nothing to simulate: no device in those racks has a management endpoint")
    state.save(lab)  # from here on, `down` can find whatever was started
    _start_ipmi(lab, [p for p in plans if p.protocol in ("ipmi", "auto")])
    password = Path(secret_file(lab, "bmc-password")).read_text().strip()
    redfish.start_redfish(lab, [p for p in plans if p.protocol == "redfish"], LAB_USER, password)
    snmp.start_pdus(db, lab, plans, secret_file(lab, "pdu-community"), outlet_file, options.replay_pdus)
    skipped = [p.name for p in plans if p.protocol not in SIMULATED]
    if skipped:
        lab.skipped.append(f"no simulator for {len(skipped)} device(s): {', '.join(skipped)}")
    gpu_nodes = [p for p in plans if p.role == DeviceRole.GPU_NODE]
    if options.hosts and gpu_nodes:
        _start_hosts(db, lab, gpu_nodes)
    state.save(lab)
    _write_inventory(db, lab)


def _start_ipmi(lab: LabState, plans: list[NodePlan]) -> None:
    if not plans:
        return
    script = ipmi.install_chassis_script(lab.folder)
    password = Path(secret_file(lab, "bmc-password")).read_text().strip()
    for plan, address in zip(plans, free_loopback(IPMI_NET, len(plans), ipmi.IPMI_PORT), strict=True):
        folder = child(lab.folder / "bmc", plan.name)
        ipmi.prepare(_sim_node(plan, lab), folder, address, LAB_USER, password, script)
        lab.bmcs[plan.name] = SimulatedBmc(plan.name, "ipmi", address, ipmi.IPMI_PORT, folder=str(folder))
    ipmi_bmcs = [b for b in lab.bmcs.values() if b.kind == "ipmi"]
    # fork and exec wait on the kernel, not the interpreter: a few at once start a thousand faster
    with ThreadPoolExecutor(max_workers=8) as pool:
        for bmc, pid in zip(ipmi_bmcs, pool.map(lambda b: ipmi.start(Path(b.folder)), ipmi_bmcs), strict=True):
            bmc.pid = pid
    state.save(lab)
    silent = ipmi.wait_answering([b.address for b in lab.bmcs.values() if b.kind == "ipmi"])
    if silent:
        bmc = next(b for b in ipmi_bmcs if b.address == silent[0])
        said = processes.last_words(Path(bmc.folder) / "ipmi_sim.log")
        raise LabError(f"{len(silent)} simulated BMC(s) did not start, e.g. {bmc.device} at {silent[0]}: {said}")


def outlet_file(lab: LabState, pdu: str, number: int) -> str:
    """The file holding one simulated outlet's state (1 on, 0 off), shared with the PDU simulator."""
    return str(lab.folder / "pdu" / pdu / "outlets" / str(number))


def _sim_node(plan: NodePlan, lab: LabState) -> ipmi.SimNode:
    major, _, rest = plan.bmc_firmware.partition(".")
    minor = rest.split(".")[0] if rest else "0"
    outlet_files = tuple((psu, outlet_file(lab, pdu, number)) for psu, pdu, number in plan.outlets)
    for _, path in outlet_files:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if not Path(path).exists():
            Path(path).write_text("1\n")
    return ipmi.SimNode(
        name=plan.name,
        manufacturer=plan.manufacturer,
        model=plan.model,
        serial=plan.serial,
        firmware=(int(major or 1), int(minor or 0)),
        gpus=plan.gpus,
        psus=plan.psus or ("PSU1",),
        draw_w=plan.draw_w,
        power_on=plan.power_on,
        outlet_files=outlet_files,
    )


def _start_hosts(db: Database, lab: LabState, plans: list[NodePlan]) -> None:
    """GPU nodes as SSH hosts whose tools and files answer like the node the inventory describes."""
    if not is_root():
        lab.skipped.append(f"{len(plans)} SSH host(s): network namespaces need root")
        return
    with db.transaction() as session:
        host_plans = hostlab.plans_from_inventory(session, [p.name for p in plans])
    hosts = hostlab.start(lab.prefix, lab.folder / "hosts", host_plans)
    host_pids = {h.pid for h in hosts.hosts.values()}
    for name, host in hosts.hosts.items():
        lab.hosts[name] = {**host.as_dict(), "persona": str(hosts.personas[name].folder)}
    for number, pid in enumerate(p for p in hosts.pids if p not in host_pids):
        lab.pids[f"health:{number}"] = pid
    lab.ssh_key, lab.known_hosts = str(hosts.keys.client), str(hosts.known_hosts)
    lab.host_public_key = " ".join(netns.public_key(hosts.keys.host))


def _write_inventory(db: Database, lab: LabState) -> None:
    password_ref = f"file:{secret_file(lab, 'bmc-password')}"
    names = [*lab.bmcs, *lab.pdus, *lab.hosts]
    with db.transaction() as session:
        devices = devices_named(session, names)
        for bmc in lab.bmcs.values():
            values: dict[str, Any] = {
                "address": bmc.address,
                "port": bmc.port,
                "username": LAB_USER,
                "credential_ref": password_ref,
                "system_id": bmc.system_id or None,
            }
            if bmc.kind == "redfish":
                # Verified against the lab's own CA, as a site would with its BMC CA: never verify_tls false.
                options = {**(devices[bmc.device].mgmt.options or {}), "cafile": redfish.ca_file(lab.folder)}
                values |= {"verify_tls": True, "options": options}
            write_mgmt(lab, devices[bmc.device], values)
        for pdu, info in lab.pdus.items():
            write_mgmt(lab, devices[pdu], info.get("inventory", {}))
        for name, host in lab.hosts.items():
            write_host_address(session, lab, devices[name], str(host["address"]), 30)
        if lab.hosts:
            session.flush()
            kind, blob = lab.host_public_key.split()
            hostkeys.pin_known(session, "lab", [devices[n] for n in lab.hosts], kind, blob, "lab")
    state.save(lab)


def _stop(db: Database | None, lab: LabState) -> list[str]:
    """Stop every process and namespace the lab lists; returns what could not be stopped."""
    problems = [f"process {pid} survived SIGKILL" for pid in processes.stop(lab.all_pids())]
    try:
        netns.teardown(lab.prefix, [])
    except LabError as exc:
        problems.append(str(exc))
    if db is not None and lab.restore:
        with db.transaction() as session:
            restore_inventory(session, lab)
    return problems


def down(db: Database | None, state_dir: Path, name: str = "default") -> list[str]:
    """Stop the lab; returns problems (empty when everything is gone)."""
    folder = state.lab_folder(state_dir, name)
    with state.locked(folder) as lab:
        if lab is None:
            raise LabError(f"no lab named '{name}' is up")
        problems = _stop(db, lab)
    if not problems:
        _remove(lab)
    return problems


def _remove(lab: LabState) -> None:
    shutil.rmtree(lab.folder, ignore_errors=True)
    if lab.secret_folder:
        shutil.rmtree(lab.secret_folder, ignore_errors=True)


def status(state_dir: Path, name: str = "default") -> tuple[LabState, dict[str, bool]]:
    """The lab's state and, per simulated endpoint, whether its process runs."""
    lab = state.load(state.lab_folder(state_dir, name))
    if lab is None:
        raise LabError(f"no lab named '{name}' is up")
    running = {b.device: bool(b.pid) and processes.alive(b.pid) for b in lab.bmcs.values()}
    running |= {h: processes.alive(int(info["pid"])) for h, info in lab.hosts.items()}
    running |= {k: processes.alive(pid) for k, pid in lab.pids.items()}
    return lab, running
