"""Cloud against owned: the worked example by hand, break-even edge cases, defaults and bad input."""

from __future__ import annotations

import math

import pytest

from rackctl.errors import ValidationError
from rackctl.inventory.templates.loader import load_template
from rackctl.services.plan import data
from rackctl.services.plan.rack import RackPlan, plan_rack
from rackctl.services.plan.tco import TcoRequest, break_even_month, plan_tco

PLANNING = data.load()


@pytest.fixture(scope="module")
def h100_rack() -> RackPlan:
    return plan_rack(load_template("h100-4node-air"), gpus=32)


@pytest.fixture(scope="module")
def l40s_rack() -> RackPlan:
    return plan_rack(load_template("l40s-8node"), gpus=32)


def test_32_h100_at_4_dollars_and_70_percent_by_hand(h100_rack: RackPlan) -> None:
    result = plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=4.00, utilisation=0.7), h100_rack)
    cloud = 32 * 4.00 * 730 * 0.7  # 65,408 a month
    capex = 4 * 8 * 27_500  # four 8-GPU servers at the midpoint GPU price
    power = 42.14 * 1.4 * 730 * 0.10  # rack plan kW x PUE x hours x $/kWh
    colo = 32 * 225
    assert result.cloud_month == pytest.approx(cloud)
    assert result.capex == pytest.approx(capex)
    assert result.amortisation_month == pytest.approx(capex / 36)
    assert result.power_month == pytest.approx(power)
    assert result.colo_month == pytest.approx(colo)
    assert result.owned_month == pytest.approx(capex / 36 + power + colo)
    assert result.break_even_month == math.ceil(capex / (cloud - power - colo)) == 17
    assert result.owned_total == pytest.approx(capex + 36 * (power + colo))
    assert result.break_even_utilisation == pytest.approx((capex / 36 + power + colo) / (32 * 4 * 730), abs=1e-4)


def test_defaults_come_from_the_planning_data_and_are_listed(h100_rack: RackPlan) -> None:
    result = plan_tco(PLANNING, TcoRequest(gpus=32), h100_rack)
    used = {a.name: a for a in result.assumptions}
    assert used["cloud rate per GPU-hour"].value == PLANNING.gpus["h100"].cloud_usd_per_hour.value  # type: ignore[union-attr]
    assert used["utilisation"].value == PLANNING.tco["utilisation"].value
    assert used["PUE"].source == PLANNING.tco["pue"].source
    assert used["IT draw of the owned racks"].value == pytest.approx(42.14)
    assert all(a.source for a in result.assumptions)
    overridden = plan_tco(PLANNING, TcoRequest(gpus=32, pue=1.2, staff_month=10_000), h100_rack)
    staff = next(a for a in overridden.assumptions if a.name == "staff per month")
    assert staff.value == 10_000 and staff.source == "given (--staff-month)"
    assert overridden.staff_month == 10_000


def test_zero_utilisation_never_breaks_even(h100_rack: RackPlan) -> None:
    result = plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=4.0, utilisation=0.0), h100_rack)
    assert result.cloud_month == 0
    assert result.break_even_month is None
    assert result.cloud_total - result.owned_total < 0


def test_low_utilisation_breaks_even_only_past_the_horizon(h100_rack: RackPlan) -> None:
    result = plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=4.0, utilisation=0.2), h100_rack)
    assert result.break_even_month is None
    longer = plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=4.0, utilisation=0.2, months=240), h100_rack)
    assert longer.break_even_month is not None and longer.break_even_month > 36


def test_owned_gpus_round_up_to_whole_servers() -> None:
    rack = plan_rack(load_template("h100-4node-air"), gpus=10)
    result = plan_tco(PLANNING, TcoRequest(gpus=10, cloud_rate=4.0, utilisation=1.0), rack)
    assert (result.servers, result.owned_gpus) == (2, 16)
    assert result.cloud_month == pytest.approx(10 * 4.0 * 730)
    assert result.colo_month == pytest.approx(16 * 225)


@pytest.mark.parametrize(
    ("capex", "running", "cloud", "months", "expected"),
    [
        (100.0, 10.0, 20.0, 36, 10),
        (101.0, 10.0, 20.0, 36, 11),
        (0.0, 1.0, 2.0, 36, 1),
        (100.0, 20.0, 20.0, 36, None),
        (100.0, 30.0, 20.0, 36, None),
        (1000.0, 0.0, 10.0, 36, None),
    ],
)
def test_break_even_month(capex: float, running: float, cloud: float, months: int, expected: int | None) -> None:
    assert break_even_month(capex, running, cloud, months) == expected


def test_a_gpu_without_catalogue_prices_needs_them_given(l40s_rack: RackPlan) -> None:
    with pytest.raises(ValidationError, match="--cloud-rate"):
        plan_tco(PLANNING, TcoRequest(gpus=32), l40s_rack)
    with pytest.raises(ValidationError, match="--server-price"):
        plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=1.5), l40s_rack)
    result = plan_tco(PLANNING, TcoRequest(gpus=32, cloud_rate=1.5, server_price=60_000), l40s_rack)
    assert result.capex == 8 * 60_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"gpus": -1}, "--gpus"),
        ({"utilisation": 1.5}, "--utilisation"),
        ({"utilisation": -0.1}, "--utilisation"),
        ({"months": 0}, "--months"),
        ({"pue": 0.9}, "--pue"),
        ({"cloud_rate": -4.0}, "--cloud-rate"),
        ({"colo_per_gpu_month": -1.0}, "--colo-per-gpu-month"),
        ({"staff_month": -1.0}, "--staff-month"),
    ],
)
def test_bad_input_names_the_option(h100_rack: RackPlan, overrides: dict[str, float], field: str) -> None:
    values: dict[str, float] = {"gpus": 32} | overrides
    with pytest.raises(ValidationError) as caught:
        plan_tco(PLANNING, TcoRequest(**values), h100_rack)  # type: ignore[arg-type]
    assert f"field '{field}'" in str(caught.value)
