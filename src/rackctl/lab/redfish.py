"""Simulated Redfish BMCs: sushy-tools' emulator, many systems per process, one address per node."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

from rackctl.lab import processes, tls
from rackctl.lab.plan import REDFISH_NET, NodePlan, free_loopback
from rackctl.lab.processes import LabError
from rackctl.lab.state import LabState, SimulatedBmc
from rackctl.paths import child
from rackctl.secrets import write_private

NODES_PER_PROCESS = 24
REDFISH_PORT = 443


def _port() -> int:
    return REDFISH_PORT if os.geteuid() == 0 else 8443


def system_uuid(node: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{node}.rackctl.lab"))


def ca_file(lab_folder: Path) -> str:
    """The lab's CA certificate: what the inventory verifies the simulated BMCs against."""
    return str(lab_folder / "tls" / "ca.crt")


def certificate(lab_folder: Path, addresses: list[str]) -> tuple[str, str]:
    """A CA made for this lab, and one certificate it signs for every simulated BMC address."""
    authority = tls.make_authority(f"rackctl lab CA {lab_folder.name}")
    folder = lab_folder / "tls"
    tls.write_issued(folder, "bmc", tls.issue(authority, "rackctl-lab-bmc", addresses))
    Path(ca_file(lab_folder)).write_bytes(authority.pem)
    return str(folder / "bmc.crt"), str(folder / "bmc.key")


def _sushy_config(folder: Path, plans: list[NodePlan], auth_file: Path) -> Path:
    systems = [
        {
            "uuid": system_uuid(p.name),
            "name": p.name,
            "power_state": "On" if p.power_on else "Off",
            "nics": [{"mac": f"02:00:{i // 256:02x}:{i % 256:02x}:00:01", "ip": "0.0.0.0"}],
            # kept by the lab's BIOS extension of sushy-tools' fake driver (redfish_server.lab_systems)
            **({"versions": {"BiosVersion": p.bios_firmware}} if p.bios_firmware else {}),
        }
        for i, p in enumerate(plans)
    ]
    config = folder / "sushy.conf"
    config.write_text(
        f"SUSHY_EMULATOR_FAKE_SYSTEMS = {systems!r}\n"
        f"SUSHY_EMULATOR_AUTH_FILE = {str(auth_file)!r}\n"
        f"SUSHY_EMULATOR_STATE_DIR = {str(folder / 'state')!r}\n"
        "SUSHY_EMULATOR_FEATURE_SET = 'full'\n"
    )
    return config


def _htpasswd(folder: Path, username: str, password: str) -> Path:
    import bcrypt

    path = folder / "htpasswd"
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    write_private(path, f"{username}:{digest}\n")
    return path


def start_redfish(lab: LabState, plans: list[NodePlan], username: str, password: str) -> None:
    """Start the Redfish simulators for `plans`; each node gets its own address and system."""
    if not plans:
        return
    port = _port()
    addresses = free_loopback(REDFISH_NET, len(plans), port, tcp=True)
    cert, key = certificate(lab.folder, addresses)
    for group_index in range(0, len(plans), NODES_PER_PROCESS):
        group = plans[group_index : group_index + NODES_PER_PROCESS]
        number = group_index // NODES_PER_PROCESS
        folder = lab.folder / "redfish" / f"server-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        listen = []
        for offset, plan in enumerate(group):
            node_folder = child(lab.folder / "bmc", plan.name)
            node_folder.mkdir(parents=True, exist_ok=True)
            address = addresses[group_index + offset]
            listen.append({"address": address, "port": port, "node": plan.name, "folder": str(node_folder)})
            lab.bmcs[plan.name] = SimulatedBmc(
                plan.name, "redfish", address, port, system_id=system_uuid(plan.name), folder=str(node_folder)
            )
        config = {
            "sushy_config": str(_sushy_config(folder, group, _htpasswd(folder, username, password))),
            "listen": listen,
            "certificate": cert,
            "key": key,
            "ready": str(folder / "ready"),
        }
        (folder / "server.json").write_text(json.dumps(config, indent=1))
        argv = [sys.executable, "-m", "rackctl.lab.redfish_server", str(folder / "server.json")]
        lab.pids[f"redfish:{number}"] = processes.start(argv, folder / "server.log")
    _wait_ready(lab)


def _wait_ready(lab: LabState, timeout: float = 60.0) -> None:
    folders = sorted((lab.folder / "redfish").glob("server-*"))
    if not processes.wait_for(lambda: all((f / "ready").exists() for f in folders), timeout, 0.1):
        late = [f.name for f in folders if not (f / "ready").exists()]
        raise LabError(f"Redfish simulator {late[0]} did not start: see {lab.folder}/redfish/{late[0]}/server.log")
