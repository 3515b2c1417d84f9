"""Property: a randomly mutated rack template is built, or refused with one of rackctl's inventory
errors (ValidationError, NotFound, Conflict) - never a crash, and never a half-written rack."""

from __future__ import annotations

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
from template_mutations import mutated_templates, shipped

TEMPLATES = {name: shipped(name) for name in ("h100-4node-air", "h100-pod-2rack-ib")}
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


class _Undo(Exception):
    """Roll the build back: every example starts from the same inventory."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=mutated_templates(TEMPLATES, _VALUES, most=2))
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
