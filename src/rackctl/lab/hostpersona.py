"""GPU node personalities for lab hosts: what a node's tools would print, consistent with the inventory.

A persona is a folder: `bin/` holds stand-ins for nvidia-smi, dcgmi, lldpctl, systemctl, dpkg-query,
ethtool, modinfo and dmesg (tiny sh scripts answering from `data/`), `proc/` a /proc whose `net/bonding`
and `driver/nvidia` come from the persona (everything else links to the real /proc, mounted on
`realproc/`), and `sysnet/` a /sys/class/net. `binds` mounts them over the system's paths inside the
lab host's private mount namespace, so the host probe runs unchanged, as on a real node.

Faults change the data files of a running host at once (stand-ins read them on every call): a
driver version, Fabric Manager stopped, GPUs missing, MTUs, an XID, swapped LLDP neighbours, the
serving runtime failing its health check.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rackctl.lab import personadata as render
from rackctl.services.audit.state import DCGM_UNIT, FABRICMANAGER_UNIT, CablingExpected, HostExpected

STANDINS = {
    "nvidia-smi": """case " $* " in
  *" -x "*|*" --xml-format "*) f=nvidia-smi.xml ;;
  *--query-gpu*) f=nvidia-smi.csv ;;
  *) f=nvidia-smi.txt ;;
esac
if [ -f "$d/nvidia-smi.error" ]; then cat "$d/nvidia-smi.error"; exit 9; fi
cat "$d/$f\"""",
    "dcgmi": """case "$1" in
  health) cat "$d/dcgmi-health.txt" ;;
  *) echo "dcgmi (rackctl lab): $1 is not simulated" ;;
esac""",
    "lldpctl": 'cat "$d/lldp.json"',
    "dpkg-query": 'cat "$d/packages.txt"',
    "dmesg": 'cat "$d/dmesg.txt"',
    "modinfo": """if [ "$*" = "-F version nvidia" ] && [ -s "$d/modinfo-nvidia.txt" ]; then
  cat "$d/modinfo-nvidia.txt"; exit 0
fi
echo "modinfo: ERROR: Module ${3:-$1} not found." >&2; exit 1""",
    "ethtool": """if [ -f "$d/ethtool-$1.txt" ]; then cat "$d/ethtool-$1.txt"; exit 0; fi
echo "netlink error: no device matches name (offset 24)" >&2; exit 1""",
    "systemctl": """[ "$1" = show ] || { echo "systemctl (rackctl lab): only 'show' is simulated" >&2; exit 1; }
first=1
for unit in "$@"; do
  case "$unit" in show|-*) continue ;; esac
  [ $first = 1 ] || echo
  first=0
  if [ -f "$d/units/$unit" ]; then cat "$d/units/$unit"
  else printf 'Id=%s\\nLoadState=not-found\\nActiveState=inactive\\nSubState=dead\\n' "$unit"; fi
done""",
}


@dataclass(frozen=True)
class Faults:
    """Drift to inject; the default is a host exactly as planned."""

    driver_version: str | None = None  # the driver installed and loaded instead of the profile's
    fabricmanager_stopped: bool = False
    gpus_missing: int = 0  # nvidia-smi lists this many GPUs fewer
    mtu: dict[str, int] = field(default_factory=dict)  # port or bond -> MTU (a bond's members follow it)
    xid: int | None = None  # an XID in the kernel log, on the first GPU
    lldp_swap: tuple[str, str] | None = None  # two local ports whose cables are swapped
    serving_down: bool = False  # the serving runtime answers its health check with 503


@dataclass(frozen=True)
class Persona:
    name: str
    folder: Path
    binds: tuple[tuple[str, str], ...]

    @property
    def data(self) -> Path:
        return self.folder / "data"


def _standins(folder: Path) -> None:
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, body in STANDINS.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n# rackctl lab stand-in for {name}: answers from {folder}/data\n"
                          f"d={folder}/data\n{body}\n")  # fmt: skip
        script.chmod(0o755)


def _fake_proc(folder: Path) -> None:
    """A /proc whose own entries link to the real one (mounted on realproc/) except net/ and driver/."""
    real, fake = folder / "realproc", folder / "proc"
    real.mkdir(parents=True, exist_ok=True)
    (fake / "net" / "bonding").mkdir(parents=True, exist_ok=True)
    (fake / "driver" / "nvidia").mkdir(parents=True, exist_ok=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit() and entry not in ("net", "driver") and not (fake / entry).is_symlink():
            (fake / entry).symlink_to(real / entry)
    # /proc/net is per process (self/net): each entry reads the caller's own namespace through realproc.
    for entry in os.listdir("/proc/self/net"):
        if entry != "bonding" and not (fake / "net" / entry).is_symlink():
            (fake / "net" / entry).symlink_to(real / "self" / "net" / entry)


def create(folder: Path, host: HostExpected, cabling: CablingExpected | None, faults: Faults | None = None) -> Persona:
    """Build a persona folder for one GPU node; `binds` are for netns.HostSpec."""
    folder.mkdir(parents=True, exist_ok=True)
    _standins(folder)
    _fake_proc(folder)
    persona = Persona(host.device, folder, (
        (str(folder / "bin"), "/usr/local/bin"),
        ("/proc", str(folder / "realproc")),
        (str(folder / "proc"), "/proc"),
        (str(folder / "sysnet"), "/sys/class/net"),
    ))  # fmt: skip
    inject(persona, host, cabling, faults or Faults())
    return persona


def inject(persona: Persona, host: HostExpected, cabling: CablingExpected | None, faults: Faults) -> None:
    """Rewrite what the persona's host shows: the plan, changed by `faults` (Faults() heals it)."""
    data = persona.data
    data.mkdir(parents=True, exist_ok=True)
    driver = faults.driver_version or host.nvidia_driver or "570.133.20"
    count = max(0, host.gpu_count - faults.gpus_missing)
    gpus = render.gpus(host.device, host.gpu_model or "", count)
    xml = render.nvidia_smi_xml(driver, host.cuda or "12.8", gpus, bool(host.fabric_manager))
    (data / "nvidia-smi.xml").write_text(xml)
    (data / "nvidia-smi.csv").write_text(render.nvidia_smi_csv(driver, gpus))
    (data / "nvidia-smi.txt").write_text(f"NVIDIA-SMI {driver}  Driver Version: {driver}  ({count} GPUs)\n")
    (data / "nvidia-smi.error").unlink(missing_ok=True)
    (data / "modinfo-nvidia.txt").write_text(f"{driver}\n" if host.gpu_count else "")
    (persona.folder / "proc" / "driver" / "nvidia" / "version").write_text(render.proc_driver_version(driver))
    (data / "packages.txt").write_text(render.packages(host))
    (data / "dcgmi-health.txt").write_text(render.dcgmi_health())
    (data / "dmesg.txt").write_text(render.dmesg(gpus[0].bus_id if gpus and faults.xid else "", faults.xid))
    _units(data / "units", host, faults)
    _network(persona, host, cabling, faults)
    flag = data / "serving-down"
    flag.write_text("503\n") if faults.serving_down else flag.unlink(missing_ok=True)


def _units(folder: Path, host: HostExpected, faults: Faults) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    states = {FABRICMANAGER_UNIT: not faults.fabricmanager_stopped, DCGM_UNIT: True}
    if host.serving_unit:
        states[host.serving_unit] = True
    for unit, running in states.items():
        active, sub = ("active", "running") if running else ("inactive", "dead")
        (folder / unit).write_text(f"Id={unit}\nLoadState=loaded\nActiveState={active}\nSubState={sub}\n")


def _network(persona: Persona, host: HostExpected, cabling: CablingExpected | None, faults: Faults) -> None:
    sysnet = persona.folder / "sysnet"
    # The folder itself is mounted over /sys/class/net of a running host: empty it, never replace it.
    sysnet.mkdir(exist_ok=True)
    for entry in sysnet.iterdir():
        shutil.rmtree(entry)
    mtus = render.mtus(host, faults.mtu)
    members = {m: bond.name for bond in host.bonds for m in bond.members}
    render.sysfs_port(sysnet, "lo", 65536, "unknown", None, None, "")
    for nic in host.nics:
        master = members.get(nic.name, "")
        render.sysfs_port(sysnet, nic.name, mtus[nic.name], "up", nic.speed_mbps, nic.sriov_vfs or 0, master)
        (persona.data / f"ethtool-{nic.name}.txt").write_text(render.ethtool(nic.name, nic.speed_mbps))
    bonding = persona.folder / "proc" / "net" / "bonding"
    for stale in bonding.iterdir():
        stale.unlink()
    for bond in host.bonds:
        render.sysfs_port(sysnet, bond.name, mtus[bond.name], "up", None, None, "")
        speeds = {n.name: n.speed_mbps for n in host.nics}
        (bonding / bond.name).write_text(render.bonding_file(host.device, bond, speeds, cabling))
    (persona.data / "lldp.json").write_text(render.lldp_json(cabling, faults.lldp_swap))
