"""A simulated PDU's behaviour, run inside its snmpsim process as the `rackpdu` variation module.

Outlet state lives in the lab's outlet files. A SET of an outlet command switches the outlet through
`powerdomain.outlet_changed`, so the nodes it feeds lose or regain input (a cycle switches it back
on after the PDU's cycle delay). Currents and power are worked out from the lab on every read: the
real wiring of each node (its wiring.json, which a miswiring fault changes), whether it is on, its
draw split over its PSUs that have input; plus switches and other gear without a BMC, and any extra
load a fault adds. Faults are files in the PDU's folder: `locked` (outlets whose commands are
refused, or "all"), `extra_w` (watts drawn by load the inventory does not know) and `late_s` (the
relay switches at once but the answer comes that many seconds late, as from a PDU whose management
card is overloaded: the client may give up on a command that nevertheless took effect).
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pysnmp.smi import error as smi_error

from rackctl.lab import powerdomain, state
from rackctl.lab.processes import LabError

LOAD_FACTOR = 0.7  # running nodes draw this share of their maximum (the BMC's PSU sensors say the same)
STANDBY_W = 20.0  # per PSU with input, node off: BMC and fans at idle
SNAPSHOT_S = 0.25
# A node whose console did not answer (a starved machine) is told again: a real PSU always sees its input go.
TELL_ATTEMPTS = 3


def _spec(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


class Simulator:
    """One PDU: its outlets (state files, phase, voltage) and what the lab plugged into them."""

    def __init__(self, config_path: Path) -> None:
        self.folder = config_path.parent
        self.config: dict[str, Any] = json.loads(config_path.read_text())
        self.outlets: dict[int, dict[str, Any]] = {int(k): v for k, v in self.config["outlets"].items()}
        self._snapshot: tuple[float, dict[str, float]] = (0.0, {})
        self._lock = threading.Lock()
        self._events: queue.Queue[tuple[str, bool]] = queue.Queue()
        if self.config.get("lab"):
            threading.Thread(target=self._react, daemon=True, name="rackpdu-physics").start()

    # --- reads

    def read(self, spec: dict[str, str]) -> int:
        kind, number, unit = spec["k"], int(spec.get("n", 0)), float(spec.get("unit", 1))
        if kind in ("state", "control"):
            on = self.is_on(number)
            key = ("read_on" if on else "read_off") if kind == "control" else ("on" if on else "off")
            return int(spec.get(key, spec["on" if on else "off"]))
        return round(self.measure(kind, number) / unit)

    def is_on(self, number: int) -> bool:
        return powerdomain.outlet_is_on(self.outlets[number]["path"])

    def measure(self, kind: str, number: int) -> float:
        """Watts (kinds ending in power) or amps through an outlet, a phase, a bank or the whole PDU."""
        watts = self._watts()
        group = [number] if kind in ("power", "current") else self._group(kind, number)
        drawn = sum(watts.get(self.outlets[n]["path"], 0.0) for n in group) + self._extra_share(kind)
        if kind.endswith("power"):
            return drawn
        return drawn / (self.outlets[group[0]]["volts"] if group else 230.0)

    def _extra_share(self, kind: str) -> float:
        """Load the inventory does not know, spread evenly over the phases (banks see none of it)."""
        if kind.startswith("total"):
            return self._extra_w()
        if kind.startswith("phase"):
            return self._extra_w() / max(1, len({o["phase"] for o in self.outlets.values()}))
        return 0.0

    def _group(self, kind: str, number: int) -> list[int]:
        if kind.startswith("phase"):
            return [n for n, o in self.outlets.items() if o["phase"] == f"L{number}"]
        if kind.startswith("bank"):
            return [n for n, o in self.outlets.items() if o["bank"] == number]
        return sorted(self.outlets)

    def _extra_w(self) -> float:
        try:
            return float((self.folder / "extra_w").read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def _watts(self) -> dict[str, float]:
        """Watts drawn through every outlet file of the lab, cached for a moment (a walk reads many)."""
        with self._lock:
            at, watts = self._snapshot
            if time.monotonic() - at > SNAPSHOT_S:
                watts = self._lab_watts()
                self._snapshot = (time.monotonic(), watts)
            return watts

    def _lab_watts(self) -> dict[str, float]:
        drawn: dict[str, float] = defaultdict(float)
        for paths, running_w in self._loads():
            live = [p for p in paths if powerdomain.outlet_is_on(p)]
            for path in live:
                drawn[path] += running_w / len(live)
        return drawn

    def _loads(self) -> list[tuple[list[str], float]]:
        """(outlet files feeding a device's PSUs, one per PSU; watts it draws when it has power)."""
        loads = []
        lab = state.load(Path(self.config["lab"])) if self.config.get("lab") else None
        for bmc in lab.bmcs.values() if lab else []:
            wiring = _wiring(Path(bmc.folder))
            if not wiring:
                continue
            draw = self.config["nodes"].get(bmc.device, 0) * LOAD_FACTOR
            chassis_on = (Path(bmc.folder) / "power").read_text().strip() == "1"
            live = sum(powerdomain.outlet_is_on(p) for p in wiring)
            loads.append((wiring, draw if chassis_on else STANDBY_W * live))
        for device in self.config.get("devices", []):
            loads.append((device["paths"], device["draw_w"] * LOAD_FACTOR))
        return loads

    # --- writes

    def write(self, spec: dict[str, str], value: int, oid: Any, index: int) -> None:
        number = int(spec["n"])
        if self._locked(number):
            raise smi_error.NotWritableError(name=oid, idx=index)
        commands = {int(spec[k]): k for k in ("on", "off", "cycle") if k in spec}
        command = commands.get(value)
        if command is None:
            raise smi_error.WrongValueError(name=oid, idx=index)
        path = self.outlets[number]["path"]
        self._switch(path, command != "on")
        if command == "cycle":
            delay = float(self.config.get("cycle_delay_s", 2.0))
            threading.Timer(delay, self._switch, args=(path, False)).start()
        time.sleep(self._late_s())  # the agent answers nothing meanwhile: it is one busy card

    def _late_s(self) -> float:
        try:
            return float((self.folder / "late_s").read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0

    def _switch(self, path: str, off: bool) -> None:
        """The relay switches at once; the nodes react in the background, in order, so the agent
        answers the SET without waiting for a BMC to stop or boot."""
        Path(path).write_text("0\n" if off else "1\n")
        if self.config.get("lab"):
            self._events.put((path, not off))
        with self._lock:
            self._snapshot = (0.0, {})

    def _react(self) -> None:
        while True:
            path, on = self._events.get()
            if powerdomain.outlet_is_on(path) != on:
                continue  # a later command is queued and wins
            for attempt in range(1, TELL_ATTEMPTS + 1):
                try:
                    powerdomain.outlet_changed(Path(self.config["lab"]), path, on)
                    break
                except LabError as exc:  # one node that could not be told must not stop every later reaction
                    print(f"outlet {path} {'on' if on else 'off'} (try {attempt}): {exc}", file=sys.stderr, flush=True)
                if powerdomain.outlet_is_on(path) != on:
                    break  # switched again meanwhile: that later command's reaction is queued

    def _locked(self, number: int) -> bool:
        try:
            locked = (self.folder / "locked").read_text().split()
        except OSError:
            return False
        return "all" in locked or str(number) in locked


def _wiring(folder: Path) -> list[str]:
    try:
        return list(json.loads((folder / "wiring.json").read_text())["outlets"].values())
    except (OSError, ValueError, KeyError):
        return []


# --- the variation-module interface snmpsim calls (through the module lab/snmp.py writes)


def init(module: dict[str, Any], options: str) -> None:
    module["simulator"] = Simulator(Path(_spec(options)["config"]))


def variate(module: dict[str, Any], oid: Any, tag: str, value: str, context: dict[str, Any]) -> tuple[Any, str, Any]:
    """Answer a GET/GETNEXT of a live record, or carry out a SET."""
    if not context["nextFlag"] and not context["exactMatch"]:
        return context["origOid"], tag, context["errorStatus"]
    simulator: Simulator = module["simulator"]
    spec = _spec(value)
    if context["setFlag"]:
        index = max(0, context["varsTotal"] - context["varsRemaining"] - 1)
        if spec["k"] != "control":
            raise smi_error.NotWritableError(name=oid, idx=index)
        written = context["origValue"]
        simulator.write(spec, int(written), oid, index)
        return oid, tag, str(int(written))
    return oid, tag, str(simulator.read(spec))


def shutdown(module: dict[str, Any]) -> None:
    module.pop("simulator", None)
