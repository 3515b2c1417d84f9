"""Where the files rackctl ships (rack templates, device types, playbooks) are found."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_dir(name: str) -> Path:
    """A top-level project folder: inside the installed package, or the source checkout."""
    packaged = Path(str(resources.files("rackctl"))) / "_shipped" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / name
    return checkout


def data_dir(name: str) -> Path:
    """A folder of package data under rackctl/data."""
    return Path(str(resources.files("rackctl"))) / "data" / name
