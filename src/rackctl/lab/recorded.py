"""Simulated PDUs served from real recorded walks (LibreNMS's test walks of vendors' PDUs).

The walks are data recorded by others, kept with a PROVENANCE note in the checkout's
`tests/data/pdu/walks/` (or wherever `RACKCTL_PDU_WALKS` points). Every recorded value is served as
recorded. What a recording cannot do is
switch: the outlet state and command objects of the PDU's family become live records of the lab's
`rackpdu` variation module (lab/pdusim.py), backed by one state file per outlet, so a SET of a
command really switches the outlet and the state reads back. Where a recording has no outlet state
rows (monitoring systems trim walks to what they read), the rows are added at the outlets the walk
meters, or, for a walk without outlet rows, at the count the PDU reports (Sentry4 cords) or
`DEFAULT_OUTLETS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rackctl
from rackctl.drivers import pdu_tables
from rackctl.drivers.pdu_families import Family, Switching, families
from rackctl.lab.processes import LabError

DEFAULT_OUTLETS = 8
SENTRY4_CORD_OUTLETS = "1.3.6.1.4.1.1718.4.1.3.2.1.24"  # st4InputCordOutletCount
# One walk per family for the lab's recorded PDUs: the richest recording of each MIB.
LAB_WALKS = {
    "apc": "librenms/apc_apdu9959eu3",
    "apc-rpdu": "librenms/apc_ap7900b",
    "apc-isx": "librenms/apc_isx-pdu",
    "raritan": "librenms/raritan-pdu_px2",
    "raritan-px1": "librenms/raritan-pdu",
    "servertech": "librenms/sentry4",
    "sentry3": "librenms/sentry3",
    "vertiv": "librenms/vertiv-pdu_mg02e4w1",
    "eaton": "librenms/eatonpdu_2",
    "dell": "librenms/dell-rpdu",
}
Record = tuple[str, str, str]


def walks_dir() -> Path:
    """Where the recorded walks are: RACKCTL_PDU_WALKS, else tests/data/pdu/walks of the checkout."""
    if os.environ.get("RACKCTL_PDU_WALKS"):
        return Path(os.environ["RACKCTL_PDU_WALKS"])
    folder = Path(rackctl.__file__).resolve().parents[2] / "tests" / "data" / "pdu" / "walks"
    if not (folder / "PROVENANCE.md").is_file():
        raise LabError(f"no recorded PDU walks in {folder}: set RACKCTL_PDU_WALKS")
    return folder


def walk_names() -> list[str]:
    """Every recorded walk, as `source/name`."""
    base = walks_dir()
    return sorted(str(p.relative_to(base).with_suffix("")) for p in base.glob("*/*.snmprec"))


def records(name: str) -> list[Record]:
    """The walk's records (OID, snmpsim type tag, value) as recorded."""
    path = walks_dir() / f"{name}.snmprec"
    if not path.is_file():
        raise LabError(f"no recorded walk '{name}' in {walks_dir()}")
    found = []
    for line in path.read_text(errors="replace").splitlines():
        oid, _, rest = line.partition("|")
        tag, _, value = rest.partition("|")
        if oid and tag:
            found.append((oid.lstrip("."), tag, value))
    return found


@dataclass(frozen=True)
class LiveOutlets:
    """The outlets a recorded PDU switches: row index per outlet id, and the records that serve them."""

    rows: dict[int, str]  # outlet id (the simulator's key) -> row index in the family's outlet table
    records: list[Record]


def live_outlets(family: Family, recorded: list[Record]) -> LiveOutlets:
    """State and command records for every outlet row of the walk (added where it has none)."""
    switching = family.outlets
    if switching is None:
        return LiveOutlets({}, [])
    rows = _outlet_rows(family, switching, recorded)
    live: list[Record] = []
    for n, index in rows.items():
        live += _state_and_commands(switching, n, index)
        live += _row_columns(family, switching, index, n, recorded)
    return LiveOutlets(rows, live)


def _state_and_commands(switching: Switching, n: int, index: str) -> list[Record]:
    """The outlet's state record and one record per command column. A command column reads what
    agents answer (-1 for Eaton's delay columns, the last command otherwise); where the state object
    is itself written to switch (PDU-MIB's outletOperationalState), it reads the state."""
    by_column: dict[str, dict[str, int]] = {}
    for action, (oid, value) in switching.commands.items():
        by_column.setdefault(oid, {})[action.value] = value
    out: list[Record] = []
    if switching.state.oid not in by_column:
        on, off = min(switching.on_values), min(switching.off_values)
        out.append((f"{switching.state.oid}.{index}", "2:rackpdu", f"k=state,n={n},on={on},off={off}"))
    for oid, commands in by_column.items():
        values = ",".join(f"{k}={v}" for k, v in commands.items())
        if oid != switching.state.oid:
            values += ",read_on=-1,read_off=-1" if len(commands) == 1 else ",read_on=0,read_off=0"
        out.append((f"{oid}.{index}", "2:rackpdu", f"k=control,n={n},{values}"))
    return out


def _outlet_rows(family: Family, switching: Switching, recorded: list[Record]) -> dict[int, str]:
    """Row index by outlet id: the outlet's number on the first unit, unit * 1000 + number beyond."""
    walked = _walked(recorded, [switching.state.oid, *(c.oid for c in switching.table.columns())])
    rows = pdu_tables.rows(family, switching.rows_table(), walked)
    if not rows and "outlet" in family.levels:
        walked = _walked(recorded, [c.oid for c in family.levels["outlet"].columns()])
        rows = pdu_tables.rows(family, family.levels["outlet"], walked)
    if rows:
        return {(r.unit - 1) * 1000 + r.number: r.index for r in rows}
    return {n: _index_for(family, switching, n) for n in range(1, _outlet_count(recorded) + 1)}


def _outlet_count(recorded: list[Record]) -> int:
    counts = [int(v) for oid, _, v in recorded if oid.startswith(SENTRY4_CORD_OUTLETS + ".1.") and v.isdigit()]
    return counts[0] if counts else DEFAULT_OUTLETS


def _index_for(family: Family, switching: Switching, number: int) -> str:
    """The row index of outlet `number` of the first unit, by the family's index pattern."""
    parts = {"unit": str(family.unit_base), "number": str(number), "_": "1"}
    pattern = switching.table.index
    if pattern == ("_",):
        return str(number)
    return ".".join(parts[p] for p in pattern)


def _row_columns(family: Family, switching: Switching, index: str, n: int, recorded: list[Record]) -> list[Record]:
    """Unit, number and name columns for an added row (kept as recorded where the walk has them)."""
    have = {oid for oid, _, _ in recorded}
    table = switching.table
    wanted = [(table.unit, "2", str(family.unit_base)), (table.number, "2", str(n)), (table.label, "4", f"Outlet {n}")]
    return [(f"{c.oid}.{index}", tag, value) for c, tag, value in wanted if c and f"{c.oid}.{index}" not in have]


def _walked(recorded: list[Record], columns: list[str]) -> dict[str, list[tuple[str, Any]]]:
    found: dict[str, list[tuple[str, Any]]] = {c: [] for c in columns}
    for oid, tag, value in recorded:
        for column in columns:
            if oid.startswith(column + "."):
                found[column].append((oid[len(column) + 1 :], int(value) if tag in ("2", "65", "66") else value))
    return found


def snmprec(recorded: list[Record], live: list[Record]) -> str:
    """The walk with its live records in place of the recorded ones, sorted as snmpsim needs."""
    replaced = {oid for oid, _, _ in live}
    merged = [r for r in recorded if r[0] not in replaced] + live
    merged.sort(key=lambda r: tuple(int(p) for p in r[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in merged)


def lab_pdu(
    family_name: str, folder: Path, walk: str = "", outlet_file: Callable[[int], str] | None = None, lab: str = ""
) -> tuple[str, dict[str, Any]]:
    """The snmprec text and simulator config of a recorded PDU of the family. Outlet state lives in
    `outlet_file(n)` (the lab's outlet files, so the nodes an outlet feeds react) or in `folder`."""
    family = families()[family_name]
    recorded = records(walk or LAB_WALKS[family_name])
    live = live_outlets(family, recorded)
    outlets = {}
    for n in live.rows:
        path = Path(outlet_file(n)) if outlet_file else folder / "outlets" / str(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("1\n")  # PDUs ship with every outlet on
        outlets[n] = {"path": str(path), "phase": "L1", "volts": 230.0, "bank": 1}
    config = {"lab": lab, "pdu": family_name, "cycle_delay_s": 1.0, "outlets": outlets, "devices": [], "nodes": {}}
    return snmprec(recorded, live.records), config
