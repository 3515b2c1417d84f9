"""Simulated IPMI BMCs: one OpenIPMI `ipmi_sim` per node, each on its own loopback address.

Chassis power and boot state live in files in the node's folder, kept by a chassis-control script
that ipmi_sim calls for every chassis command; sensor readings are files ipmi_sim polls, switched
between an "on" and an "off" set when power changes. The simulated PDUs drive the same files, so a
node whose outlets are all off is off (and its BMC, without standby power, is stopped).
Runtime changes to discrete sensors (a PSU losing input) go through ipmi_sim's command console, which
also writes the matching SEL events.
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rackctl.drivers import rmcp
from rackctl.lab import processes, sdr
from rackctl.lab.processes import LabError
from rackctl.lab.sdr import SensorSpec
from rackctl.secrets import write_private

IPMI_PORT = 623
CONSOLE_PORT = 9623
SENSOR_POLL_MS = 500


@dataclass(frozen=True)
class SimNode:
    """What a simulated BMC reports about its machine, taken from the inventory."""

    name: str
    manufacturer: str = "Generic"
    model: str = "server"
    serial: str = ""
    asset_tag: str = ""
    firmware: tuple[int, int] = (1, 0)
    gpus: int = 0
    psus: tuple[str, ...] = ("PSU1", "PSU2")
    draw_w: int = 1000
    power_on: bool = False
    outlet_files: tuple[tuple[str, str], ...] = ()  # (PSU name, outlet state file) pairs
    extra: dict[str, str] = field(default_factory=dict)


def install_chassis_script(lab_root: Path) -> Path:
    """Copy the chassis-control script into the lab (package data may lose its executable bit)."""
    target = lab_root / "bin" / "chassis-control"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((resources.files("rackctl.lab") / "chassis-control").read_text())
    target.chmod(0o755)
    return target


def sensors(node: SimNode) -> list[SensorSpec]:
    """The node's sensors: inlet, CPUs, GPUs, fans, and per PSU its input power and status."""
    specs = [SensorSpec(1, "Inlet Temp", sdr.TEMPERATURE, unit=sdr.DEGREES_C, entity=(0x37, 1), upper=(35, 40, 45))]
    specs += [
        SensorSpec(
            2 + i, f"CPU{i} Temp", sdr.TEMPERATURE, unit=sdr.DEGREES_C, entity=(0x03, i + 1), upper=(85, 95, 100)
        )
        for i in range(2)
    ]
    specs += [
        SensorSpec(
            10 + i, f"GPU{i + 1} Temp", sdr.TEMPERATURE, unit=sdr.DEGREES_C, entity=(0x0B, i + 1), upper=(85, 90, 95)
        )
        for i in range(node.gpus)
    ]
    specs += [
        SensorSpec(30 + i, f"FAN{i + 1}", sdr.FAN, unit=sdr.RPM, multiplier=100, entity=(0x1D, i + 1)) for i in range(6)
    ]
    for i, psu in enumerate(node.psus):
        specs.append(
            SensorSpec(
                50 + i,
                f"{psu} Power In",
                sdr.POWER_SUPPLY,
                unit=sdr.WATTS,
                multiplier=20,
                entity=(0x0A, i + 1),
                upper=(180, 200, 220),
            )
        )
        specs.append(SensorSpec(80 + i, f"{psu} Status", sdr.POWER_SUPPLY, sdr.SENSOR_SPECIFIC, entity=(0x0A, i + 1)))
    return specs


def _readings(node: SimNode, on: bool) -> dict[str, int]:
    """Raw sensor values with the node on or off (standby)."""
    psu_w = node.draw_w * 0.7 / max(1, len(node.psus)) if on else 12
    values = {"inlet_temp": 23, "cpu0_temp": 52 if on else 24, "cpu1_temp": 50 if on else 24}
    values |= {f"gpu{i + 1}_temp": (48 + i % 3) if on else 23 for i in range(node.gpus)}
    values |= {f"fan{i + 1}": 84 if on else 0 for i in range(6)}
    values |= {f"psu{i + 1}_w": math.ceil(psu_w / 20) for i in range(len(node.psus))}
    return values


def _sensor_file(spec: SensorSpec) -> str:
    if spec.sensor_type == sdr.TEMPERATURE:
        return spec.name.split()[0].lower() + "_temp"
    if spec.sensor_type == sdr.FAN:
        return spec.name.lower()
    return f"psu{spec.entity[1]}_w"


def emulator_commands(node: SimNode, folder: Path) -> list[str]:
    """The ipmi_sim command file (-f) for a node."""
    major, minor = node.firmware
    lines = [
        "mc_setbmc 0x20",
        f"mc_add 0x20 0 no-device-sdrs 0x23 {major:x} {minor:02d} 0x9f 0x1291 0xf02",
        "sel_enable 0x20 1000 0x0a",
        "sensor_add 0x20 0 0 35 0x6f event-only",
    ]
    for record_id, spec in enumerate(sensors(node), start=1):
        if spec.is_threshold:
            path = folder / "readings" / _sensor_file(spec)
            lines.append(
                f'sensor_add 0x20 0 {spec.number} {spec.sensor_type:#x} 0x01 poll {SENSOR_POLL_MS} file "{path}"'
            )
            events = "000111111000000"
        else:
            lines.append(f"sensor_add 0x20 0 {spec.number} {spec.sensor_type:#x} {spec.reading_type:#x}")
            lines.append(f"sensor_set_bit_clr_rest 0x20 0 {spec.number} {sdr.PSU_PRESENT} 1 0")
            events = "000000000001111"
        lines.append(
            f"sensor_set_event_support 0x20 0 {spec.number} enable scanning per-state "
            f"{events} {events} {events} {events}"
        )
        lines.append(f"main_sdr_add 0x20 {sdr.hex_bytes(sdr.full_sensor_record(spec, record_id))}")
    fru = sdr.fru_image(node.manufacturer, node.model, node.model[:16], "1.0", node.serial, node.asset_tag)
    lines += [f"mc_add_fru_data 0x20 0 {len(fru)} data {sdr.hex_bytes(fru)}", "mc_enable 0x20", ""]
    return lines


def lan_config(node: SimNode, folder: Path, address: str, username: str, password: str, script: Path) -> str:
    """The ipmi_sim LAN configuration (-c): address, user, chassis control and the command console."""
    return "\n".join(
        [
            f'name "{node.name}"',
            "set_working_mc 0x20",
            "  startlan 1",
            f"    addr {address} {IPMI_PORT}",
            "    priv_limit admin",
            "    allowed_auths_callback none md2 md5 straight",
            "    allowed_auths_user none md2 md5 straight",
            "    allowed_auths_operator none md2 md5 straight",
            "    allowed_auths_admin none md2 md5 straight",
            f"    guid {node.name.encode().hex()[:32].ljust(32, '0')}",
            "  endlan",
            f'  chassis_control "{script} {folder}"',
            f"  console {address} {CONSOLE_PORT}",
            f'  user 2 true "{username}" "{password}" admin 10 none md2 md5 straight',
            "",
        ]
    )


def shared_readings(node: SimNode, root: Path) -> tuple[Path, Path]:
    """The on/off reading sets for nodes like this one, written once and shared by all of them."""
    on, off = _readings(node, True), _readings(node, False)
    key = hashlib.sha1(json.dumps([on, off], sort_keys=True).encode()).hexdigest()[:12]
    folders = root / key / "on", root / key / "off"
    for folder, values in zip(folders, (on, off), strict=True):
        if not folder.exists():
            folder.mkdir(parents=True)
            for name, value in values.items():
                (folder / name).write_text(f"{value}\n")
    return folders


def _link(path: Path, target: Path | str) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to(target)


def prepare(node: SimNode, folder: Path, address: str, username: str, password: str, script: Path) -> None:
    """Write everything one simulated BMC needs into its folder (readings are shared per node type)."""
    folder.mkdir(parents=True, exist_ok=True)
    on, off = shared_readings(node, script.parent.parent / "readings")
    _link(folder / "readings.on", on)
    _link(folder / "readings.off", off)
    _link(folder / "readings", "readings.on" if node.power_on else "readings.off")
    (folder / "power").write_text("1\n" if node.power_on else "0\n")
    (folder / "boot").write_text("default\n")
    write_wiring(folder, list(node.psus), dict(node.outlet_files))
    # The LAN configuration holds the BMC password: owner-only from its first byte.
    write_private(folder / "lan.conf", lan_config(node, folder, address, username, password, script))
    (folder / "bmc.emu").write_text("\n".join(emulator_commands(node, folder)))
    (folder / "state").mkdir(exist_ok=True)


def write_wiring(folder: Path, psus: list[str], wiring: dict[str, str]) -> None:
    """Which outlet state file really feeds each PSU (a miswiring fault rewrites this, not the inventory)."""
    (folder / "wiring.json").write_text(json.dumps({"psus": psus, "outlets": wiring}, indent=1))
    (folder / "outlets").write_text("".join(f"{path}\n" for path in sorted(set(wiring.values()))))


def read_wiring(folder: Path) -> tuple[list[str], dict[str, str]]:
    """(the node's PSUs in sensor order, PSU -> outlet state file)."""
    path = folder / "wiring.json"
    if not path.exists():
        return [], {}
    data = json.loads(path.read_text())
    return list(data["psus"]), dict(data["outlets"])


def start(folder: Path, prefix: Sequence[str] = ()) -> int:
    """Start the node's ipmi_sim; returns its PID. `prefix` runs it through another command that execs it
    (`ip netns exec NS`: a BMC only one network namespace reaches)."""
    argv = [
        *prefix,
        "ipmi_sim",
        "-n",
        "-c",
        str(folder / "lan.conf"),
        "-f",
        str(folder / "bmc.emu"),
        "-s",
        str(folder / "state"),
    ]
    # NOTE(OpenIPMI ipmi_sim 2.0.x): a console client that disconnects before the prompt is written
    # kills ipmi_sim with SIGPIPE, so it runs with SIGPIPE ignored.
    return processes.start(argv, folder / "ipmi_sim.log", ignore_sigpipe=True)


def wait_answering(addresses: Sequence[str], timeout: float = 20.0) -> list[str]:
    """Wait until every BMC answers an RMCP ping; returns those that never did."""
    pending = [(a, IPMI_PORT) for a in addresses]

    def ready() -> bool:
        answered = rmcp.ping_many(pending, timeout=0.3, attempts=1)
        pending[:] = [t for t in pending if t not in answered]
        return not pending

    processes.wait_for(ready, timeout, 0.05)
    return [address for address, _ in pending]


PROMPT = b"> "


# How long a console command may take to be carried out: seconds on a loaded machine, never a whole minute.
CONSOLE_S = 60.0


def console(address: str, commands: Sequence[str], timeout: float = CONSOLE_S) -> None:
    """Send commands to a running ipmi_sim's console (sensor changes, SEL entries).

    Returns once the console has prompted again after the last command: ipmi_sim prints "> " before
    reading each line, so one prompt more than commands means every command was carried out. Waits on
    that prompt, not on a margin: closing earlier (with the reset below) could drop a command ipmi_sim had
    not read yet, which on a loaded machine left a PSU's input state unchanged.
    """
    try:
        with socket.create_connection((address, CONSOLE_PORT), timeout=timeout) as conn:
            # Close with a reset: a TIME_WAIT on the console port would keep a restarted ipmi_sim from binding it.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sendall(b"".join(command.encode() + b"\n" for command in commands))
            seen = b""
            deadline = time.monotonic() + timeout
            while seen.count(PROMPT) <= len(commands) and time.monotonic() < deadline:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                seen += chunk
    except TimeoutError:
        raise LabError(f"ipmi_sim console at {address}: no prompt within {timeout:g} s") from None
    except OSError as exc:
        raise LabError(f"ipmi_sim console at {address}: {exc.strerror or exc}") from None
    if seen.count(PROMPT) <= len(commands):
        raise LabError(f"ipmi_sim console at {address}: closed before carrying out {commands[-1]!r}")


def psu_input(address: str, psu_index: int, has_input: bool) -> None:
    """Assert or clear "input lost" on a PSU status sensor (and log the SEL event)."""
    number = 80 + psu_index
    console(address, [f"sensor_set_bit 0x20 0 {number} {sdr.PSU_INPUT_LOST} {0 if has_input else 1} 1"])


def psu_failure(address: str, psu_index: int, failed: bool) -> None:
    number = 80 + psu_index
    console(address, [f"sensor_set_bit 0x20 0 {number} {sdr.PSU_FAILURE} {1 if failed else 0} 1"])
