"""Helpers for the DB-backed inventory tests: racks built from templates in the test's inventory."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pytest

from rackctl.inventory.db import Database
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import RackTemplate, load_template, parse_template

Build = Callable[..., list[str]]


@cache
def shipped_template(name: str) -> RackTemplate:
    return load_template(name)


@pytest.fixture
def build(db: Database) -> Build:
    """Create racks from a template (a shipped name, or YAML text) in one transaction; their names."""

    def make(name: str = "r12", template: str = "h100-4node-air", site: str = "fra1") -> list[str]:
        spec = parse_template(template, "test.yaml") if "\n" in template else shipped_template(template)
        with db.transaction() as session:
            built = create_racks(session, spec, name, site, "tester")
            return [rack.name for rack in built.racks]

    return make
