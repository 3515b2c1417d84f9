"""Typed SQLAlchemy models of the inventory; importing this package registers every table."""

from rackctl.inventory.models.audit import AuditFinding, AuditResult, AuditRun, AuditSighting
from rackctl.inventory.models.changelog import Change
from rackctl.inventory.models.device import Device, ManagementEndpoint, PowerPort, StateChange
from rackctl.inventory.models.devicetype import (
    DeviceType,
    DeviceTypeConsolePort,
    DeviceTypeInterface,
    DeviceTypeModuleBay,
    DeviceTypeOutlet,
    DeviceTypePowerPort,
)
from rackctl.inventory.models.hostkey import HostKey
from rackctl.inventory.models.lease import Lease
from rackctl.inventory.models.network import Cable, Interface, IpAddress
from rackctl.inventory.models.oplog import Operation, OperationEnd, OperationResult
from rackctl.inventory.models.power import PduOutlet, PowerFeed
from rackctl.inventory.models.profile import Profile
from rackctl.inventory.models.site import Rack, Site

# isort: split
# The change log listens to every session once the models exist (it names objects by these classes).
from rackctl.inventory import changelog as _changelog  # noqa: F401

# After every model: the name rule attaches itself to the models' attributes.
from rackctl.inventory import guard as _guard  # noqa: F401

__all__ = [
    "AuditFinding",
    "AuditResult",
    "AuditRun",
    "AuditSighting",
    "Cable",
    "Change",
    "Device",
    "DeviceType",
    "DeviceTypeConsolePort",
    "DeviceTypeInterface",
    "DeviceTypeModuleBay",
    "DeviceTypeOutlet",
    "DeviceTypePowerPort",
    "HostKey",
    "Interface",
    "IpAddress",
    "Lease",
    "ManagementEndpoint",
    "Operation",
    "OperationEnd",
    "OperationResult",
    "PduOutlet",
    "PowerFeed",
    "PowerPort",
    "Profile",
    "Rack",
    "Site",
    "StateChange",
]
