"""Rack plans of the shipped templates, built in a scratch inventory and read with the power model."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rackctl.errors import ValidationError
from rackctl.inventory.db import Database
from rackctl.inventory.models import DeviceType
from rackctl.inventory.templates.loader import load_template
from rackctl.services.plan.rack import copy_device_types, plan_rack

# Device types' maximum draw (src/rackctl/data/devicetypes): what the expected figures are made of.
HGX_H100_W = 10_200
L40S_NODE_W = 2_400


def test_h100_4node_air_draws_about_42_kw_and_fits_its_45_kw_cooling() -> None:
    plan = plan_rack(load_template("h100-4node-air"))
    (rack,) = plan.per_rack
    assert (plan.gpu_nodes, plan.gpus, plan.racks, plan.spare_node_slots) == (4, 32, 1, 0)
    assert rack.draw_kw == pytest.approx(42.14)
    assert rack.draw_kw - 4 * HGX_H100_W / 1000 == pytest.approx(1.34)  # switches and console server
    assert rack.cooling == "air" and rack.cooling_limit_kw == 45 and rack.cooling_ok
    assert rack.devices == {"console-server": 1, "gpu-node": 4, "leaf": 2, "mgmt-switch": 1, "pdu": 4}
    feeds = {f.feed: f for f in rack.feeds}
    assert feeds["A"].normal_kw == pytest.approx(rack.draw_kw / 2)
    assert feeds["A"].one_lost_kw == pytest.approx(rack.draw_kw)  # feed B lost: A carries everything
    assert feeds["A"].limit_kw == pytest.approx(415 * 100 * 3**0.5 * 0.8 / 1000, abs=0.01)
    assert plan.ok and plan.checks_passed > 0


def test_l40s_8node_draws_about_20_kw() -> None:
    plan = plan_rack(load_template("l40s-8node"))
    (rack,) = plan.per_rack
    assert (plan.gpu_nodes, plan.gpus_per_node, plan.gpu_model) == (8, 4, "L40S-48GB")
    assert rack.draw_kw == pytest.approx(20.26)
    assert rack.cooling_limit_kw == 30 and rack.cooling_ok and plan.ok


def test_the_two_rack_pod_comes_as_a_pair() -> None:
    plan = plan_rack(load_template("h100-pod-2rack-ib"), count=9)
    assert (plan.nodes_per_template, plan.racks_per_template) == (8, 2)
    assert (plan.templates, plan.racks, plan.spare_node_slots) == (2, 4, 7)
    assert [r.name for r in plan.per_rack] == ["r1a", "r1b"]
    assert all(r.cooling == "rear-door" and r.draw_kw == pytest.approx(44.66) for r in plan.per_rack)


def test_racks_needed_for_n_nodes_and_the_draw_of_a_part_filled_rack() -> None:
    plan = plan_rack(load_template("h100-4node-air"), count=5)
    assert (plan.templates, plan.racks, plan.spare_node_slots) == (2, 2, 3)
    # Two racks of network gear, five servers: the three empty slots draw nothing.
    assert plan.total_draw_kw == pytest.approx(2 * 42.14 - 3 * HGX_H100_W / 1000)


def test_gpus_round_up_to_whole_nodes() -> None:
    plan = plan_rack(load_template("l40s-8node"), gpus=33)
    assert (plan.gpu_nodes, plan.gpus, plan.racks) == (9, 36, 2)
    assert plan.total_draw_kw == pytest.approx(2 * 20.26 - 7 * L40S_NODE_W / 1000)


def test_device_types_from_the_users_inventory_replace_the_shipped_ones(db: Database) -> None:
    with db.transaction() as session:
        hgx = session.scalars(select(DeviceType).where(DeviceType.slug == "hgx-h100-8gpu")).one()
        hgx.max_draw_w = 12_000  # this site measured more than the datasheet
    with db.transaction() as session:
        types = copy_device_types(session)
    plan = plan_rack(load_template("h100-4node-air"), extra_types=types)
    (rack,) = plan.per_rack
    assert rack.draw_kw == pytest.approx(4 * 12.0 + 1.34)
    assert not rack.cooling_ok and not plan.ok
    assert "cooling" in {c.check for c in plan.failed_checks}
    assert "hgx-h100-8gpu" in plan.inventory_types


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"count": -1}, "--count"),
        ({"count": 0}, "--count"),
        ({"gpus": -8}, "--gpus"),
        ({"count": 2, "gpus": 8}, "--gpus"),
    ],
)
def test_bad_counts_are_refused(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        plan_rack(load_template("h100-4node-air"), **kwargs)  # type: ignore[arg-type]
    assert f"field '{field}'" in str(caught.value)
