"""Find the driver class for a protocol through entry points, importing only what is used.

A Redfish-only run never imports pyghmi. Third parties add drivers by declaring an entry point in
the group for their kind (`rackctl.bmc`, `rackctl.pdu`, `rackctl.switch`).
"""

from __future__ import annotations

import threading
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from rackctl.errors import Unsupported
from rackctl.extras import missing_extra

# Used when rackctl runs from a source tree whose entry points were never installed.
_BUILTIN = {
    ("rackctl.bmc", "ipmi"): "rackctl.drivers.ipmi:IpmiBmc",
    ("rackctl.bmc", "redfish"): "rackctl.drivers.redfish:RedfishBmc",
    ("rackctl.pdu", "snmp"): "rackctl.drivers.pdu_snmp:SnmpPdu",
}


_IMPORTING = threading.Lock()


@cache
def driver_class(group: str, name: str) -> Any:
    """The class registered as `name` in entry-point group `group`; MissingExtra when the library it
    speaks through is not installed (pyghmi, redfish: `rackctl[oob]`; pysnmp: `rackctl[pdu]`)."""
    try:
        with _IMPORTING:  # fan-out threads ask at once; one must not see another's half-imported module
            return _load(group, name)
    except ModuleNotFoundError as exc:
        raise missing_extra(exc, f"the {name} driver") or exc from None


def _load(group: str, name: str) -> Any:
    for entry in entry_points(group=group):
        if entry.name == name:
            return entry.load()
    target = _BUILTIN.get((group, name))
    if target is None:
        raise Unsupported(f"no {group.split('.')[-1]} driver for '{name}'")
    module, _, attribute = target.partition(":")
    return getattr(__import__(module, fromlist=[attribute]), attribute)
