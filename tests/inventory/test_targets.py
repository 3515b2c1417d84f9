"""Node sets resolved in the inventory: groups by rack, role, state, profile, site and type; set
operations; unknown names and sources."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from rackctl.errors import NotFound, ValidationError
from rackctl.inventory.db import Database
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device, Site
from rackctl.targets import fold, resolve
from rackctl.types import NodeState

Build = Callable[..., list[str]]
GPUS_R12 = "gpu-r12-u[03,11,19,27]"


@pytest.fixture
def fleet(db: Database, build: Build) -> Database:
    """r12 (H100) and r13 (L40S) in fra1, pod p1 (p1a, p1b) in ams2; gpu-r12-u03 failed."""
    with db.transaction() as session:
        session.add(Site(name="ams2"))
    build("r12")
    build("r13", "l40s-8node")
    build("p1", "h100-pod-2rack-ib", site="ams2")
    with db.transaction() as session:
        node = session.scalars(select(Device).where(Device.name == "gpu-r12-u03")).one()
        change_state(session, node, NodeState.FAILED, "tester", "PSU fault")
    return db


def _resolve(db: Database, expression: str) -> str:
    with db.transaction() as session:
        return fold(resolve(session, expression))


RESOLVED = [
    ("gpu-r12-u[03,11]", "gpu-r12-u[03,11]"),
    ("gpu-r12-u[03-27/8]", GPUS_R12),
    ("@rack:r12&@role:gpu-node", GPUS_R12),
    ("@rack:r12!@role:gpu-node", "con-r12,leaf-r12-a,leaf-r12-b,mgmt-r12,pdu-r12-a[1-2],pdu-r12-b[1-2]"),
    ("@role:ib-switch", "ib-p1-[1-2]"),
    ("@state:failed", "gpu-r12-u03"),
    ("@role:gpu-node&@rack:r12!@state:failed", "gpu-r12-u[11,19,27]"),
    ("@profile:h100-inference", GPUS_R12),
    ("@profile:l40s-inference&gpu-r13-u[03-07]", "gpu-r13-u[03,05,07]"),
    ("@site:ams2&@role:leaf", "leaf-p1a-a,leaf-p1a-b,leaf-p1b-a,leaf-p1b-b"),
    ("@type:nvidia-qm9700", "ib-p1-[1-2]"),
    ("@type:hgx-h100-8gpu-ndr&@rack:p1b", "gpu-p1b-u[03,11,19,27]"),
    ("@rack:r12&@role:leaf,@rack:r13&@role:leaf", "leaf-r[12-13]-a,leaf-r[12-13]-b"),
    (
        "@role:pdu^@rack:r13",
        "con-r13,gpu-r13-u[03,05,07,09,11,13,15,17],leaf-r13-a,leaf-r13-b,mgmt-r13,"
        "pdu-p1a-a[1-2],pdu-p1a-b[1-2],pdu-p1b-a[1-2],pdu-p1b-b[1-2],pdu-r12-a[1-2],pdu-r12-b[1-2]",
    ),
    ("@all&@role:mgmt-switch", "mgmt-p1a,mgmt-p1b,mgmt-r[12-13]"),
    (
        "@role:mgmt-switch,@all!@site:fra1",
        "con-p1a,con-p1b,gpu-p1a-u[03,11,19,27],gpu-p1b-u[03,11,19,27],"
        "ib-p1-[1-2],leaf-p1a-a,leaf-p1a-b,leaf-p1b-a,leaf-p1b-b,mgmt-p1a,mgmt-p1b,"
        "pdu-p1a-a[1-2],pdu-p1a-b[1-2],pdu-p1b-a[1-2],pdu-p1b-b[1-2]",
    ),  # operators apply left to right, without precedence (ClusterShell's rule)
    ("@site:ams2&@role:mgmt-switch,mgmt-r12", "mgmt-p1a,mgmt-p1b,mgmt-r12"),
]


def test_resolve(fleet: Database) -> None:
    # One test over the whole table: building the fleet takes far longer than resolving in it.
    for expression, expected in RESOLVED:
        assert _resolve(fleet, expression) == expected, expression


def test_all_is_every_device_in_natural_order(fleet: Database) -> None:
    with fleet.transaction() as session:
        names = resolve(session, "@all")
        assert len(names) == 12 + 14 + 26
        assert set(names) == set(session.scalars(select(Device.name)))
    assert names.index("gpu-r12-u03") < names.index("gpu-r12-u11") < names.index("gpu-r12-u19")


def test_several_expressions_are_a_union_without_repeats(fleet: Database) -> None:
    with fleet.transaction() as session:
        names = resolve(session, ["gpu-r12-u03", "@state:failed", "gpu-r12-u11"])
    assert names == ["gpu-r12-u03", "gpu-r12-u11"]


UNRESOLVABLE = [
    ("gpu-r12-u[01-05]", NotFound, "not in the inventory: gpu-r12-u[01-02,04-05]"),
    ("gpu-r99-u03,leaf-r99-a", NotFound, "not in the inventory: gpu-r99-u03,leaf-r99-a"),
    ("@rack:r99", NotFound, "'@rack:r99' matches no device"),
    ("@role:storage", NotFound, "matches no device"),
    ("@rack:r12&@rack:r13", NotFound, "matches no device"),
    ("@colour:red", ValidationError, "unknown group source '@colour:'"),
    ("@state:broken", ValidationError, "unknown state 'broken'"),
    ("@role:gpu", ValidationError, "unknown role 'gpu'"),
    ("gpu-r12-u[03", ValidationError, "missing bracket"),
    ("gpu-r12-u[03-]", ValidationError, "bad range"),
    ("@rack:r12,,x", ValidationError, "missing nodeset operand"),
    ("", ValidationError, "empty target expression"),
]


def test_unresolvable_expressions(fleet: Database) -> None:
    for expression, error, message in UNRESOLVABLE:
        with pytest.raises(error) as caught, fleet.transaction() as session:
            resolve(session, expression)
        assert message in str(caught.value), expression


def test_errors_carry_hints(fleet: Database) -> None:
    with pytest.raises(ValidationError) as caught, fleet.transaction() as session:
        resolve(session, "@colour:red")
    assert caught.value.hint is not None and "@rack:NAME" in caught.value.hint and "@all" in caught.value.hint
    with pytest.raises(ValidationError) as caught, fleet.transaction() as session:
        resolve(session, "@state:broken")
    assert caught.value.hint is not None and "in-service" in caught.value.hint
