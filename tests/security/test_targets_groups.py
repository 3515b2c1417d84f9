"""Issue 12 §1 and issue 15: groups return the names the inventory stores and never parse them again as
node-set syntax, and an expression selecting more than the configured ceiling is one clear error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from rackctl.errors import NotFound, ValidationError
from rackctl.inventory.db import Database
from rackctl.targets import fold, resolve


@pytest.fixture
def two_sites(db: Database, cli: Callable[..., Any]) -> Database:
    """r1 in fra1; r12 in scratch, two of whose nodes were renamed past the rule (SQL by hand)."""
    assert cli("site", "add", "scratch").exit_code == 0
    for rack, site in (("r1", "fra1"), ("r12", "scratch")):
        assert cli("rack", "create", rack, "-t", "h100-4node-air", "-s", site).exit_code == 0
    with db.engine.begin() as conn:
        for old, new in [("gpu-r12-u03", "gpu-r1-u11,gpu-r1-u03"), ("gpu-r12-u11", "gpu-r12-u 11")]:
            conn.execute(text("UPDATE devices SET name = :new WHERE name = :old"), {"new": new, "old": old})
    return db


def test_a_stored_name_holding_a_comma_selects_only_itself(two_sites: Database) -> None:
    with two_sites.transaction() as session:
        names = resolve(session, "@site:scratch&@role:gpu-node")
    assert "gpu-r1-u03" not in names and "gpu-r1-u11" not in names  # rack r1's nodes, in another site
    assert sorted(names) == ["gpu-r1-u11,gpu-r1-u03", "gpu-r12-u 11", "gpu-r12-u19", "gpu-r12-u27"]


def test_a_stored_name_holding_a_space_breaks_no_group(two_sites: Database) -> None:
    with two_sites.transaction() as session:
        everything = resolve(session, "@all")
        nodes = resolve(session, "@role:gpu-node!@rack:r1")
    assert "gpu-r12-u 11" in everything and len(everything) == 24
    assert "gpu-r12-u 11" in nodes and len(nodes) == 4


def test_names_the_rule_refuses_are_shown_escaped_and_apart(two_sites: Database) -> None:
    assert fold(["gpu-r1-u03", "gpu-r1-u05", "gpu-r1-u11,gpu-r1-u03", "x\ny"]) == (
        "gpu-r1-u[03,05],'gpu-r1-u11,gpu-r1-u03','x\\ny'"
    )


def test_an_expression_over_the_ceiling_is_refused_before_any_name_is_made(db: Database) -> None:
    with db.transaction() as session, pytest.raises(ValidationError) as caught:
        resolve(session, "n[1-100000000]")
    assert "names 100,000,000 nodes, more than the 200,000 allowed" in str(caught.value)
    assert caught.value.hint is not None and "max_targets" in caught.value.hint


def test_the_ceiling_is_a_setting(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACKCTL_MAX_TARGETS", "10")
    with db.transaction() as session, pytest.raises(ValidationError, match="more than the 10 allowed"):
        resolve(session, "n[1-11]")


def test_many_unknown_names_are_asked_in_chunks_and_reported_briefly(db: Database) -> None:
    # 40,000 names: more than SQLite's bound-variable limit in one IN (...).
    with db.transaction() as session, pytest.raises(NotFound) as caught:
        resolve(session, "n[1-40000]")
    assert str(caught.value).startswith("not in the inventory: n[1-1000] and 39,000 more")
