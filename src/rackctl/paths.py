"""Where the files rackctl ships (rack templates, device types, playbooks) are found."""

from __future__ import annotations

import os
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


def child(folder: Path, name: str) -> Path:
    """`folder/name` for a name from the inventory, refused unless it is one component inside `folder`.

    Names already follow the name rule when written; this holds for rows that reached the database
    some other way, so `../../x` or `/etc` can never make rackctl write outside its folders.
    """
    from rackctl.errors import ValidationError

    bad = not name or name in (".", "..") or any(c in name for c in "/\\\0") or not name.isprintable()
    path = folder / name
    if bad or os.path.normpath(path).rsplit(os.sep, 1)[0] != os.path.normpath(folder):
        raise ValidationError(f"{name!a} cannot name a file or folder: it would leave {folder}")
    return path
