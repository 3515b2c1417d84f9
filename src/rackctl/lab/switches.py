"""Lab switches: Linux-based switches in network namespaces (stateful: pushes, rollbacks) and fakenos
for vendor CLIs (show commands from canned outputs; no configuration state).

A Linux switch is a lab host (rackctl.lab.netns) whose front-panel ports swpN are veth links inside its
namespace, with an ifupdown2 file at /usr/local/etc/network/interfaces and stand-ins for `ifreload` and
`ifquery` (package data lab/ifupdown2-standin.sh) and lldpd's `lldpctl` (lab/lldpctl-standin.sh, printing
`lldp_file`) on /usr/local/sbin; both folders are bind-mounted from the lab folder, so nothing on the
machine changes.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rackctl.lab import processes
from rackctl.lab.netns import HostSpec, NetnsHost, SshKeys, start_hosts
from rackctl.lab.processes import LabError
from rackctl.paths import child, data_dir

CONFIG_PATH = "/usr/local/etc/network/interfaces"


@dataclass(frozen=True)
class LinuxSwitch:
    host: NetnsHost
    folder: Path  # this switch's lab folder: etc/network/interfaces lives under it

    @property
    def config_file(self) -> Path:
        return self.folder / "etc" / "network" / "interfaces"

    @property
    def lldp_file(self) -> Path:
        """What the switch's `lldpctl -f json` prints (lldpd's JSON); no neighbours while it is absent."""
        return self.folder / "etc" / "lldpd.json"

    def endpoint_options_for(self, client_key: Path) -> dict[str, Any]:
        """ManagementEndpoint.options for rackctl to reach this switch (netmiko `linux`, key login)."""
        # A loaded 2-core CI machine can take seconds to accept SSH: allow more than a real switch needs.
        return {"device_type": "linux", "key_file": str(client_key), "config_path": CONFIG_PATH, "timeout": 30}


def _prepare(folder: Path, name: str, initial: str) -> HostSpec:
    etc, sbin = folder / "etc", folder / "sbin"
    (etc / "network").mkdir(parents=True, exist_ok=True)
    sbin.mkdir(parents=True, exist_ok=True)
    (etc / "network" / "interfaces").write_text(initial)
    standins = {"ifreload": "ifupdown2-standin.sh", "ifquery": "ifupdown2-standin.sh", "lldpctl": "lldpctl-standin.sh"}
    for tool, script in standins.items():
        shutil.copy(data_dir("lab") / script, sbin / tool)
        (sbin / tool).chmod(0o755)
    return HostSpec(name, hostname=name, binds=((str(etc), "/usr/local/etc"), (str(sbin), "/usr/local/sbin")))


def _add_ports(host: NetnsHost, ports: Sequence[str]) -> None:
    lines = [f"link add {p} type veth peer name {p}p" for p in ports] + [f"link set {p} up" for p in ports]
    processes.run_tool(["ip", "-n", host.namespace, "-batch", "-"], stdin="\n".join(lines) + "\n", timeout=60)


def start_linux_switches(
    prefix: str,
    switches: Sequence[tuple[str, Sequence[str]]],
    folder: Path,
    keys: SshKeys,
    initial: str = "auto lo\niface lo inet loopback\n",
) -> list[LinuxSwitch]:
    """Start one Linux switch per (name, front-panel ports); returns when each accepts SSH."""
    specs = [_prepare(child(folder, name), name, initial) for name, _ in switches]
    hosts = start_hosts(prefix, specs, folder, keys)
    for host, (_, ports) in zip(hosts, switches, strict=True):
        _add_ports(host, ports)
    return [LinuxSwitch(host, folder / host.name) for host in hosts]


def fakenos_inventory(switches: dict[str, dict[str, Any]], username: str, password: str) -> dict[str, Any]:
    """A fakenos inventory: name -> {platform (fakenos name), port, commands {command: output}}."""
    hosts = {}
    for name, spec in switches.items():
        commands = {
            cmd: {"output": text, "help": cmd, "prompt": ["{base_prompt}#"]}
            for cmd, text in spec.get("commands", {}).items()
        }
        hosts[name] = {
            "username": username,
            "password": password,
            "port": spec["port"],
            "platform": spec["platform"],
            "nos": {"plugin": spec["platform"], "configuration": {"commands": commands}},
        }
    return {"hosts": hosts}


def start_fakenos(inventory: dict[str, Any]) -> Any:
    """Start fakenos SSH servers (threads in this process) on 127.0.0.1; call `.stop()` on the result."""
    try:
        from fakenos import FakeNOS
    except ImportError:
        raise LabError("fakenos is not installed (pip install 'rackctl[lab]')") from None
    net = FakeNOS(inventory=inventory)
    net.start()
    return net
