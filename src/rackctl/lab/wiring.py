"""Lab fault `outlet-miswired`: two of a node's power cords swapped at the PDU, the inventory unchanged.

The node's wiring.json says which outlet file really feeds each PSU; swapping two entries makes the
PDU simulators and the BMC's PSU sensors follow the real (wrong) wiring, which `rackctl pdu
verify-feeds` must then find. The inventory keeps what was planned.
"""

from __future__ import annotations

from pathlib import Path

from rackctl.lab import ipmi, state
from rackctl.lab.processes import LabError

ORIGINAL = "wiring.planned.json"


def _node_folder(lab_folder: Path, node: str) -> Path:
    lab = state.load(lab_folder)
    if lab is None or node not in lab.bmcs:
        raise LabError(f"no simulated node named '{node}' in the lab at {lab_folder}")
    return Path(lab.bmcs[node].folder)


def _default_pair(wiring: dict[str, str]) -> tuple[str, str]:
    """Two PSUs whose cords a technician could swap: on the same PDU if possible, else any two."""
    by_pdu: dict[str, list[str]] = {}
    for psu, path in wiring.items():
        by_pdu.setdefault(Path(path).parent.parent.name, []).append(psu)
    same = [psus for psus in by_pdu.values() if len(psus) >= 2]
    psus = same[0] if same else list(wiring)
    if len(psus) < 2:
        raise LabError("the node has fewer than two PSUs on PDU outlets: nothing to swap")
    return psus[0], psus[1]


def outlet_miswired(lab_folder: Path, node: str, psus: tuple[str, str] | None = None) -> str:
    """Swap the outlets feeding two PSUs of `node` (default: two on the same PDU); returns what was done."""
    folder = _node_folder(lab_folder, node)
    names, wiring = ipmi.read_wiring(folder)
    first, second = psus or _default_pair(wiring)
    missing = [p for p in (first, second) if p not in wiring]
    if missing:
        raise LabError(f"{node} has no PSU {', '.join(missing)} on a PDU outlet (it has {', '.join(wiring)})")
    if not (folder / ORIGINAL).exists():
        (folder / ORIGINAL).write_text((folder / "wiring.json").read_text())
    wiring[first], wiring[second] = wiring[second], wiring[first]
    ipmi.write_wiring(folder, names, wiring)
    return f"{node}: {first} now on {_label(wiring[first])}, {second} on {_label(wiring[second])}"


def outlet_rewired(lab_folder: Path, node: str) -> str:
    """Undo `outlet_miswired`: every cord back where the inventory says."""
    folder = _node_folder(lab_folder, node)
    original = folder / ORIGINAL
    if not original.exists():
        return f"{node}: wiring already as planned"
    (folder / "wiring.json").write_text(original.read_text())
    names, wiring = ipmi.read_wiring(folder)
    ipmi.write_wiring(folder, names, wiring)
    original.unlink()
    return f"{node}: wiring as planned"


def _label(path: str) -> str:
    outlet = Path(path)
    return f"{outlet.parent.parent.name} outlet {outlet.name}"
