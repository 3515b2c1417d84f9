"""The planning data file: every figure sourced, checked on load, and the one place defaults come from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rackctl.errors import ValidationError
from rackctl.services.plan import data
from rackctl.services.plan.model import ModelRequest, plan_model


def _figures(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        if "value" in node:
            return [node]
        return [f for value in node.values() for f in _figures(value)]
    return []


def test_every_figure_names_its_source() -> None:
    raw = yaml.safe_load(data.default_path().read_text(encoding="utf-8"))
    figures = _figures({k: v for k, v in raw.items() if k != "references"})
    assert len(figures) > 40
    for figure in figures:
        assert isinstance(figure["value"], int | float)
        assert isinstance(figure["source"], str) and len(figure["source"]) > 10


def test_the_catalogue_holds_what_the_references_give() -> None:
    planning = data.load()
    assert planning.gpus["h100"].memory_gib.value == 79.65 and planning.gpus["h100"].tdp_w.value == 700
    assert planning.gpus["l40s"].memory_gib.value == 44.99 and planning.gpus["l40s"].interconnect == "pcie"
    assert {p: planning.precisions[p].bytes.value for p in planning.precisions} == {
        "fp16": 2,
        "bf16": 2,
        "fp8": 1,
        "int8": 1,
        "int4": 0.5,
    }
    assert planning.tco["months"].value == 36 and planning.tco["power_usd_per_kwh"].value == 0.10


def _copy_with(tmp_path: Path, old: str, new: str) -> Path:
    text = data.default_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "planning.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_code_reads_its_figures_from_the_file(tmp_path: Path) -> None:
    small = data.load(_copy_with(tmp_path, "memory_gib: {value: 79.65,", "memory_gib: {value: 36,"))
    request = ModelRequest("70B", "int4", 8192, 1, gpu="h100")
    assert plan_model(data.load(), request).gpus[0].gpus_per_replica == 1
    assert plan_model(small, request).gpus[0].gpus_per_replica == 2


def test_a_figure_without_a_source_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _copy_with(
        tmp_path, 'tdp_w: {value: 700, source: "R0, R2, R3: an H100 SXM draws up to 700 W"}', "tdp_w: {value: 700}"
    )
    with pytest.raises(ValidationError, match="'source' is a required property") as caught:
        data.load(path)
    assert caught.value.where.source == str(path) and caught.value.where.line is not None


def test_an_unknown_precision_name_is_refused(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "precisions: [fp16, bf16, int8, int4]", "precisions: [fp16, bf16, int3]")
    with pytest.raises(ValidationError, match="unknown precision 'int3'"):
        data.load(path)
