"""GPU nodes of the inventory as lab hosts: network namespaces with sshd, each with its persona.

    lab = start(prefix, folder, plans)       # plans from plans_from_inventory(session, names)
    point_inventory(session, lab)           # the nodes' host addresses become the lab hosts'
    lab.inject("gpu-r12-u03", Faults(fabricmanager_stopped=True)); lab.heal("gpu-r12-u03")
    lab.stop()                              # sshd, the health responder, namespaces and links

Everything carries the prefix, so teardown and leak checks find exactly this lab's pieces.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from rackctl.inventory import queries
from rackctl.lab import hostpersona, netns, processes
from rackctl.lab.hostpersona import Faults, Persona
from rackctl.lab.plan import set_host_address
from rackctl.lab.processes import LabError
from rackctl.services import hostkeys
from rackctl.services.audit import expect
from rackctl.services.audit.state import CablingExpected, HostExpected

NodePlan = tuple[HostExpected, CablingExpected | None]


@dataclass
class HostLab:
    prefix: str
    folder: Path
    keys: netns.SshKeys
    known_hosts: Path
    plans: dict[str, NodePlan]
    personas: dict[str, Persona] = field(default_factory=dict)
    hosts: dict[str, netns.NetnsHost] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)

    def address(self, name: str) -> str:
        return self.hosts[name].address

    def inject(self, name: str, faults: Faults) -> None:
        """Make a running host drift (stand-ins and files change at once)."""
        host, cabling = self.plans[name]
        hostpersona.inject(self.personas[name], host, cabling, faults)

    def heal(self, name: str) -> None:
        self.inject(name, Faults())

    def stop(self) -> None:
        netns.teardown(self.prefix, self.pids)


def plans_from_inventory(session: Session, names: Sequence[str]) -> list[NodePlan]:
    """What each named GPU node should look like, from the inventory (the audit's own expectations)."""
    devices = queries.devices(session, names)
    cables = expect.cable_map(session, devices)
    return [(expect.host_expected(d, cables), expect.cabling_expected(d, cables)) for d in devices]


def _write_known_hosts(lab: HostLab) -> None:
    kind, blob = netns.public_key(lab.keys.host)
    lab.known_hosts.write_text("".join(f"{h.address} {kind} {blob}\n" for h in lab.hosts.values()))


def _start_healthd(lab: HostLab, port: int) -> None:
    args = [f"{lab.hosts[name].namespace}={persona.folder}" for name, persona in lab.personas.items()]
    log = lab.folder / "healthd.log"
    pid = processes.start([sys.executable, "-m", "rackctl.lab.healthd", str(port), *args], log)
    lab.pids.append(pid)
    if not processes.wait_for(lambda: log.exists() and "ready" in log.read_text(), timeout=20.0):
        raise LabError(f"the lab's health responder did not start: {log.read_text()[-300:] if log.exists() else ''}")


def start(prefix: str, folder: Path, plans: Sequence[NodePlan], faults: dict[str, Faults] | None = None) -> HostLab:
    """Start one namespace host per node with its persona; on any failure, nothing is left running."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = netns.ensure_keys(folder / "keys")
    lab = HostLab(prefix, folder, keys, folder / "known_hosts", {p[0].device: p for p in plans})
    try:
        specs = []
        for host, cabling in plans:
            where = folder / "personas" / host.device
            persona = hostpersona.create(where, host, cabling, (faults or {}).get(host.device))
            lab.personas[host.device] = persona
            specs.append(netns.HostSpec(host.device, host.device, persona.binds))
        for running in netns.start_hosts(prefix, specs, folder / "hosts", keys):
            lab.hosts[running.name] = running
            lab.pids.append(running.pid)
        _write_known_hosts(lab)
        ports = {h.serving_port for h, _ in plans if h.serving_port}
        for port in sorted(ports):
            _start_healthd(lab, port)
    except BaseException:
        lab.stop()
        raise
    return lab


def point_inventory(session: Session, lab: HostLab) -> None:
    """Give each lab node's host address (bond0's, as rackctl connects to it) the lab host's address, and pin
    the lab hosts' SSH host key for it (the lab made that key, so it knows it without asking the network)."""
    devices = queries.devices(session, list(lab.hosts))
    for device in devices:
        set_host_address(session, device, lab.address(device.name), 30)
    session.flush()
    hostkeys.pin_known(session, "lab", devices, *netns.public_key(lab.keys.host), "lab")
