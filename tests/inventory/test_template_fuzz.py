"""Property: a randomly mutated rack template is built, or refused with one of rackctl's inventory
errors (ValidationError, NotFound, Conflict) - never a crash, and never a half-written rack."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from rackctl.errors import InventoryError
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import parse_template
from rackctl.paths import shipped_dir

TEMPLATES = {
    name: yaml.safe_load((shipped_dir("rack_templates") / f"{name}.yaml").read_text())
    for name in ("h100-4node-air", "h100-pod-2rack-ib")
}
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70),
    st.integers(2**31, 2**70),
    st.text(max_size=8),
    st.sampled_from(
        ["{rack}", "{bogus}", "{i + 40}", "{n * 9}", "A", "B", "pdu", "leaf", "gpu-node", "0-3", "0-40", "10.0.0.0/30"]
    ),
    st.sampled_from(["ens1f0np0", "BMC", "Ethernet{i}/1", "pdu-{rack}-a1", "leaf-{rack}-a", "hgx-h100-8gpu"]),
    st.lists(st.integers(1, 45), min_size=1, max_size=3),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


PATHS = {name: _paths(data) for name, data in TEMPLATES.items()}


@st.composite
def mutated(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(TEMPLATES)))
    data = copy.deepcopy(TEMPLATES[name])
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(PATHS[name]))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.integers(0, 3)):
                parent[path[-1]] = draw(_VALUES)
            else:
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
    return yaml.safe_dump(data)


class _Undo(Exception):
    """Roll the build back: every example starts from the same inventory."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=mutated())
def test_mutated_templates_build_or_fail_with_an_inventory_error(db: Database, text: str) -> None:
    try:
        template = parse_template(text, "mutated.yaml")
        with db.transaction() as session:
            built = create_racks(session, template, "fz1", "fra1", "fuzz")
            session.flush()
            assert built.devices
            raise _Undo
    except _Undo:
        pass
    except InventoryError as exc:
        assert str(exc)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 0


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_unmutated_templates_build(db: Database, name: str) -> None:
    template = parse_template(yaml.safe_dump(TEMPLATES[name]), f"{name}.yaml")
    with db.transaction() as session:
        assert create_racks(session, template, "fz1", "fra1", "fuzz").devices
