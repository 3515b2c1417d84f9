"""Find the driver class for a protocol through entry points, importing only what is used.

A Redfish-only run never imports pyghmi. Third parties add drivers by declaring an entry point in
the group for their kind (`rackctl.bmc`, `rackctl.pdu`, `rackctl.switch`).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from rackctl.errors import Unsupported

# Used when rackctl runs from a source tree whose entry points were never installed.
_BUILTIN = {
    ("rackctl.bmc", "ipmi"): "rackctl.drivers.ipmi:IpmiBmc",
    ("rackctl.bmc", "redfish"): "rackctl.drivers.redfish:RedfishBmc",
    ("rackctl.pdu", "snmp"): "rackctl.drivers.pdu_snmp:SnmpPdu",
}


@cache
def driver_class(group: str, name: str) -> Any:
    """The class registered as `name` in entry-point group `group`."""
    for entry in entry_points(group=group):
        if entry.name == name:
            return entry.load()
    target = _BUILTIN.get((group, name))
    if target is None:
        raise Unsupported(f"no {group.split('.')[-1]} driver for '{name}'")
    module, _, attribute = target.partition(":")
    return getattr(__import__(module, fromlist=[attribute]), attribute)
