"""Fixtures of the security tests: an inventory with rack r12 built from a shipped template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Cli = Callable[..., Any]


@pytest.fixture
def r12(cli: Cli) -> Cli:
    """The CLI, on an inventory holding rack r12 (h100-4node-air) at site fra1."""
    created = cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1")
    assert created.exit_code == 0, created.stderr
    return cli
