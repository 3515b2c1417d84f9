"""What a GPU node's operating system says about itself, parsed from the tools' real output formats.

`model` holds the value types; one module per source format parses it (nvidia-smi XML and CSV,
/proc/net/bonding, sysfs and ethtool, `lldpctl -f json`, `dcgmi health`, XID lines of the kernel
log, `systemctl show`, package lists). Parsers never raise on odd input: what they cannot read is
left out, so the comparison reports it as missing instead of the audit failing.
"""

from rackctl.drivers.hostfacts.model import (
    Bond,
    BondMember,
    DcgmHealth,
    Gpu,
    GpuReport,
    HostFacts,
    LldpNeighbor,
    Nic,
    UnitState,
    XidEvent,
)

__all__ = [
    "Bond",
    "BondMember",
    "DcgmHealth",
    "Gpu",
    "GpuReport",
    "HostFacts",
    "LldpNeighbor",
    "Nic",
    "UnitState",
    "XidEvent",
]
