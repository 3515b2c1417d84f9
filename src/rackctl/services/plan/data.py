"""Read the planning defaults (`rackctl/data/planning.yaml`): every figure with the source it came from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from rackctl.errors import ValidationError
from rackctl.paths import data_dir
from rackctl.yamlsrc import load_file, locate

_FIGURE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["value", "source"],
    "properties": {"value": {"type": "number", "minimum": 0}, "source": {"type": "string", "minLength": 3}},
}
_NAMES = {"type": "array", "items": {"type": "string"}}
_GPU_FIGURES = ("memory_gib", "tdp_w", "tp_domain", "rack_gpus")
_ARCH_FIGURES = ("params_b", "layers", "kv_heads", "head_dim", "max_context")
_TCO_FIGURES = (
    "months",
    "hours_per_month",
    "utilisation",
    "power_usd_per_kwh",
    "pue",
    "colo_usd_per_gpu_month",
    "staff_usd_month",
)


def _entry(required: tuple[str, ...], optional: tuple[str, ...] = (), **plain: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [*required, *plain],
        "properties": {**{k: _FIGURE for k in (*required, *optional)}, **plain},
    }


_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["precisions", "sizing", "gpus", "architectures", "tco"],
    "properties": {
        "references": {"type": "object", "additionalProperties": {"type": "string"}},
        "precisions": {"type": "object", "additionalProperties": _entry(("bytes",), kv_cache={"type": "string"})},
        "sizing": _entry(("runtime_overhead_fraction", "tight_utilisation")),
        "gpus": {
            "type": "object",
            "additionalProperties": _entry(
                _GPU_FIGURES,
                ("price_usd", "cloud_usd_per_hour"),
                name={"type": "string"},
                interconnect={"type": "string"},
                inventory_models=_NAMES,
                precisions=_NAMES,
            ),
        },
        "architectures": {"type": "object", "additionalProperties": _entry(_ARCH_FIGURES)},
        "tco": _entry(_TCO_FIGURES, template={"type": "string"}),
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


@dataclass(frozen=True)
class Figure:
    """A default and where it came from."""

    value: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class Precision:
    name: str
    bytes: Figure
    kv_cache: str  # the precision the KV cache is kept in by default


@dataclass(frozen=True)
class Gpu:
    key: str
    name: str
    interconnect: str
    inventory_models: tuple[str, ...]
    precisions: tuple[str, ...]
    memory_gib: Figure  # what the driver reports as the GPU's total memory, in GiB (2^30 bytes)
    tdp_w: Figure
    tp_domain: Figure  # the largest tensor-parallel group: the NVLink domain, or one server for PCIe cards
    rack_gpus: Figure  # how many of them one rack holds
    price_usd: Figure | None
    cloud_usd_per_hour: Figure | None


@dataclass(frozen=True)
class Architecture:
    key: str
    params_b: Figure
    layers: Figure
    kv_heads: Figure
    head_dim: Figure
    max_context: Figure


@dataclass(frozen=True)
class Planning:
    """Everything in the planning data file."""

    source: str
    precisions: dict[str, Precision]
    gpus: dict[str, Gpu]
    architectures: dict[str, Architecture]
    overhead_fraction: Figure
    tight_utilisation: Figure  # above this share of GPU memory a fit is tight: said so, with the headroom
    tco: dict[str, Figure]
    tco_template: str


def default_path() -> Path:
    return data_dir("planning.yaml")


@cache
def load(path: Path | None = None) -> Planning:
    """Read and check the planning data file (the shipped one unless `path` is given)."""
    path = path or default_path()
    data = load_file(path)
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        raise ValidationError(error.message, locate(data, list(error.absolute_path), str(path)))
    _check_names(data, str(path))
    return Planning(
        source=str(path),
        precisions={k: Precision(k, _figure(v["bytes"]), v["kv_cache"]) for k, v in data["precisions"].items()},
        gpus={k: _gpu(k, v) for k, v in data["gpus"].items()},
        architectures={k: _architecture(k, v) for k, v in data["architectures"].items()},
        overhead_fraction=_figure(data["sizing"]["runtime_overhead_fraction"]),
        tight_utilisation=_figure(data["sizing"]["tight_utilisation"]),
        tco={k: _figure(data["tco"][k]) for k in _TCO_FIGURES},
        tco_template=data["tco"]["template"],
    )


def _figure(node: dict[str, Any]) -> Figure:
    return Figure(float(node["value"]), str(node["source"]))


def _architecture(key: str, node: dict[str, Any]) -> Architecture:
    return Architecture(key, *(_figure(node[f]) for f in _ARCH_FIGURES))


def _optional(node: dict[str, Any], key: str) -> Figure | None:
    return _figure(node[key]) if key in node else None


def _gpu(key: str, node: dict[str, Any]) -> Gpu:
    return Gpu(
        key=key,
        name=node["name"],
        interconnect=node["interconnect"],
        inventory_models=tuple(node["inventory_models"]),
        precisions=tuple(node["precisions"]),
        memory_gib=_figure(node["memory_gib"]),
        tdp_w=_figure(node["tdp_w"]),
        tp_domain=_figure(node["tp_domain"]),
        rack_gpus=_figure(node["rack_gpus"]),
        price_usd=_optional(node, "price_usd"),
        cloud_usd_per_hour=_optional(node, "cloud_usd_per_hour"),
    )


def _check_names(data: Any, source: str) -> None:
    """Precision names used by GPUs and KV caches must be defined under `precisions`."""
    known = set(data["precisions"])
    for key, precision in data["precisions"].items():
        if precision["kv_cache"] not in known:
            where = locate(data, ["precisions", key, "kv_cache"], source)
            raise ValidationError(f"unknown precision '{precision['kv_cache']}'", where)
    for key, gpu in data["gpus"].items():
        for name in gpu["precisions"]:
            if name not in known:
                raise ValidationError(f"unknown precision '{name}'", locate(data, ["gpus", key, "precisions"], source))
