"""Optional extras: which pip extra provides which importable package, and the one-line error when a
command needs one that is not installed (`pip install 'rackctl[switch]'`).

EXTRAS mirrors `[project.optional-dependencies]` in pyproject.toml (a test keeps them equal), by
import name; the test extra is left out.
"""

from __future__ import annotations

from types import MappingProxyType

from rackctl.errors import MissingExtra

EXTRAS = MappingProxyType(
    {
        "oob": ("pyghmi", "redfish"),
        "pdu": ("pysnmp",),
        "switch": ("jinja2", "netmiko", "ntc_templates", "textfsm"),
        "provision": ("ansible", "ansible_runner"),
        "workers": ("procrastinate",),
        "lab": ("sushy_tools", "snmpsim", "pysnmp", "pysmi", "paramiko", "fakenos"),
    }
)
# Commands whose every need is one extra (the lab's simulators), named instead of the package's first.
COMMAND_EXTRA = MappingProxyType({"lab": "lab", "demo": "lab"})


def extra_of(package: str, command: str = "") -> str | None:
    """The extra that installs `package` (for `command`, its own extra when that has it)."""
    preferred = COMMAND_EXTRA.get(command)
    if preferred and package in EXTRAS[preferred]:
        return preferred
    return next((extra for extra, packages in EXTRAS.items() if package in packages), None)


def missing_extra(exc: ModuleNotFoundError, what: str, command: str = "") -> MissingExtra | None:
    """The error to show when `what` failed to import a package of an extra; None for anything else."""
    package = (exc.name or "").split(".")[0]
    extra = extra_of(package, command)
    if extra is None:
        return None
    return MissingExtra(f"{what} needs the '{extra}' extra ({package} is missing): pip install 'rackctl[{extra}]'")
