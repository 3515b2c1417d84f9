"""`rackctl plan model|rack|tco`: tables, --json shapes, exit codes, one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import DeviceType

Cli = Callable[..., Any]
MODEL = ("plan", "model", "--params", "70B", "--context", "8192")


def test_plan_model_table(cli: Cli) -> None:
    result = cli(*MODEL, "--precision", "fp8", "--concurrency", "64", "--target-tps", "5000", "--replica-tps", "1500")
    assert result.exit_code == 0, result.stderr
    assert "171.5" in result.stdout  # 70 GB weights + 85.9 GB KV cache + 10%
    assert "TP4" in result.stdout and "no native fp8" in result.stdout
    assert "4 replicas" in result.stdout


def test_plan_model_json_shape(cli: Cli) -> None:
    result = cli(*MODEL, "--precision", "fp16", "--concurrency", "1", "--gpu", "h100", "--json")
    assert result.exit_code == 0, result.stderr
    out = result.json()
    assert set(out) == {"model", "memory", "gpus", "throughput", "assumptions"}
    assert out["model"]["arch"] == "llama-3.1-70b" and out["model"]["bytes_per_param"] == 2
    assert out["memory"]["weights_gb"] == 140.0
    (h100,) = out["gpus"]
    assert h100["gpu"] == "h100" and h100["fits"] and h100["gpus_per_replica"] == 2  # 140 GB > one 80 GB GPU
    assert out["throughput"] is None
    assert all(a["source"] for a in out["assumptions"].values())


def test_plan_model_int4_fits_one_gpu(cli: Cli) -> None:
    out = cli(*MODEL, "--precision", "int4", "--concurrency", "1", "--gpu", "h100", "--json").json()
    assert out["memory"]["weights_gb"] == 35.0 and out["gpus"][0]["gpus_per_replica"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--precision", "fp16", "--concurrency", "-1"), "field '--concurrency': must be at least 1"),
        (("--precision", "fp16", "--concurrency", "1", "--gpu", "b200"), "unknown GPU 'b200'"),
        (("--precision", "fp7", "--concurrency", "1"), "unknown precision 'fp7'"),
        (("--precision", "fp16", "--concurrency", "1", "--arch", "gpt-9"), "unknown architecture 'gpt-9'"),
    ],
)
def test_plan_model_bad_input(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*MODEL, *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_plan_model_too_large_for_any_rack(cli: Cli) -> None:
    result = cli(
        "plan",
        "model",
        "--params",
        "5000B",
        "--precision",
        "fp16",
        "--context",
        "8192",
        "--concurrency",
        "1",
        "--layers",
        "200",
        "--kv-heads",
        "16",
        "--head-dim",
        "128",
    )
    assert result.exit_code == 2
    assert "no GPU can serve this model" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("template", "racks", "draw_kw", "cooling_kw"),
    [("h100-4node-air", 1, 42.14, 45), ("l40s-8node", 1, 20.26, 30), ("h100-pod-2rack-ib", 2, 44.66, 60)],
)
def test_plan_rack_shipped_templates(cli: Cli, template: str, racks: int, draw_kw: float, cooling_kw: float) -> None:
    result = cli("plan", "rack", "--template", template, "--json")
    assert result.exit_code == 0, result.stderr
    out = result.json()
    assert out["ok"] and out["racks"] == racks and out["failed_checks"] == []
    for rack in out["per_rack"]:
        assert rack["draw_kw"] == pytest.approx(draw_kw)
        assert rack["cooling_limit_kw"] == cooling_kw and rack["cooling_ok"]
        assert [f["feed"] for f in rack["feeds"]] == ["A", "B"]
        assert all(f["one_lost_kw"] == pytest.approx(draw_kw) for f in rack["feeds"])


def test_plan_rack_table_for_n_nodes(cli: Cli) -> None:
    result = cli("plan", "rack", "--template", "h100-4node-air", "--count", "10")
    assert result.exit_code == 0, result.stderr
    assert "need 3 x 1 = 3 rack(s); 2 node slots spare" in result.stdout
    assert "air 45 kW" in result.stdout and "one feed lost kW" in result.stdout


def test_plan_rack_works_without_an_inventory(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "never" / "inventory.db"
    monkeypatch.setenv("RACKCTL_DB_URL", f"sqlite:///{missing}")
    result = cli("plan", "rack", "--template", "h100-4node-air", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["inventory_types"] == []
    assert not missing.exists() and not missing.parent.exists()


def test_plan_rack_uses_the_inventorys_device_types(cli: Cli, db: Database) -> None:
    with db.transaction() as session:
        session.scalars(select(DeviceType).where(DeviceType.slug == "hgx-h100-8gpu")).one().max_draw_w = 12_000
    result = cli("plan", "rack", "--template", "h100-4node-air", "--json")
    assert result.exit_code == 1  # 49.3 kW of heat against 45 kW of air cooling
    out = result.json()
    assert out["per_rack"][0]["draw_kw"] == pytest.approx(49.34) and not out["per_rack"][0]["cooling_ok"]
    assert "cooling" in {c["check"] for c in out["failed_checks"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--template", "h100-4node-air", "--count", "-2"), "field '--count': must be at least 1"),
        (("--template", "no-such-template"), "no rack template named 'no-such-template'"),
    ],
)
def test_plan_rack_bad_input(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("plan", "rack", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_plan_tco_json(cli: Cli) -> None:
    result = cli("plan", "tco", "--gpus", "32", "--cloud-rate", "4.00", "--utilisation", "0.7", "--json")
    assert result.exit_code == 0, result.stderr
    out = result.json()
    assert out["cloud_month"] == 65408.0 and out["capex"] == 880000.0
    assert out["break_even_month"] == 17 and out["months"] == 36
    assert {a["name"] for a in out["assumptions"]} >= {"PUE", "power price", "colocation per GPU-month"}
    assert out["savings_total"] == pytest.approx(out["cloud_total"] - out["owned_total"], abs=0.01)


def test_plan_tco_table_prints_every_assumption(cli: Cli) -> None:
    result = cli("plan", "tco", "--gpus", "32", "--utilisation", "0", "--staff-month", "15000")
    assert result.exit_code == 0, result.stderr
    assert "break-even: never within 36 months" in result.stdout
    assert "given (--staff-month)" in result.stdout and "R1: power at $0.10/kWh" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--gpus", "-4"), "field '--gpus': must be at least 1"),
        (("--gpus", "8", "--utilisation", "1.2"), "field '--utilisation': must be between 0 and 1"),
        (("--gpus", "8", "--template", "l40s-8node"), "field '--cloud-rate'"),
    ],
)
def test_plan_tco_bad_input(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("plan", "tco", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_plan_model_refuses_a_size_the_architecture_does_not_have(cli: Cli) -> None:
    result = cli(*MODEL, "--arch", "llama-3.1-8b", "--precision", "fp16", "--concurrency", "1")
    assert result.exit_code == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert "--params 70B contradicts --arch llama-3.1-8b, which has 8B parameters" in result.stderr


def test_plan_model_shows_memory_in_gib_and_a_tight_fit(cli: Cli) -> None:
    args = ("plan", "model", "--arch", "llama-3.1-70b", "--context", "8192", "--precision", "fp16")
    table = cli(*args, "--concurrency", "61", "--gpu", "h100")
    assert table.exit_code == 0, table.stderr
    assert "= 311.2 GiB" in table.stdout and "memory GiB" in table.stdout and "79.65" in table.stdout
    assert "tight: 98% of GPU memory, 1.9 GiB spare per GPU" in table.stdout and "tight_utilisation" in table.stdout
    row = cli(*args, "--concurrency", "61", "--gpu", "h100", "--json").json()["gpus"][0]
    assert (row["tight"], row["utilisation"], row["headroom_gib"]) == (True, 0.9767, 1.857)
