"""Fields of device-type files and override files: numbers and text read with their file and line, and
the overrides file (slug -> fields) checked where it is written, since merged values have no line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rackctl.errors import ValidationError
from rackctl.inventory.names import check_text
from rackctl.types import InterfaceKind
from rackctl.yamlsrc import load_file, locate

OVERRIDE_KEYS = {
    "max_draw_w",
    "inrush_w",
    "rated_power_w",
    "psu_rating_w",
    "psu_min_running",
    "gpu_model",
    "gpu_count",
    "airflow",
    "weight_kg",
    "u_height",
    "power_ports",
    "interfaces",
    "psus_from_module_bays",
}
INT32 = 2**31 - 1  # what an INTEGER column holds on every backend
MAX_U = 60  # the tallest rack a template may describe


def load_overrides(path: Path | None) -> dict[str, dict[str, Any]]:
    """An overrides file: a mapping of slug to override fields."""
    if path is None:
        return {}
    data = load_file(path)
    if not isinstance(data, dict):
        raise ValidationError("an overrides file maps device-type slugs to fields", locate(data, [], str(path)))
    for slug, fields_ in data.items():
        check_override(fields_, str(path), data, [slug])
    return data


def check_override(values: Any, source: str, root: Any, path: list[str | int]) -> None:
    if not isinstance(values, dict):
        raise ValidationError("overrides must be a mapping", locate(root, path, source))
    for key in values:
        if key not in OVERRIDE_KEYS:
            raise ValidationError(
                f"unknown override '{key}'",
                locate(root, [*path, key], source),
                hint=", ".join(sorted(OVERRIDE_KEYS)),
            )
    for key in ("interfaces", "power_ports"):
        nested = values.get(key)
        if nested is not None and not (isinstance(nested, dict) and all(isinstance(v, dict) for v in nested.values())):
            raise ValidationError(f"'{key}' maps names to mappings of fields", locate(values, [key], source))
    for fields_ in (values.get("interfaces") or {}).values():
        _check_interface_override(fields_, source)
    _check_override_values(values, source)


def _check_override_values(values: dict[str, Any], source: str) -> None:
    # Checked here, in the file they come from: once merged with the other overrides they have no line.
    for key in ("max_draw_w", "inrush_w", "rated_power_w", "psu_rating_w", "psu_min_running", "gpu_count", "weight_kg"):
        number(values, key, source)
    number(values, "u_height", source, limit=MAX_U)
    for key in ("airflow", "gpu_model"):
        text(values, key, source)
    for port in (values.get("power_ports") or {}).values():
        for key in ("maximum_draw", "allocated_draw"):
            number(port, key, source)


def _check_interface_override(fields_: dict[str, Any], source: str) -> None:
    for key in fields_:
        if key not in ("kind", "speed_mbps"):
            raise ValidationError(
                f"unknown interface override '{key}'", locate(fields_, [key], source), hint="kind, speed_mbps"
            )
    kinds = [k.value for k in InterfaceKind]
    if "kind" in fields_ and fields_["kind"] not in kinds:
        raise ValidationError(f"kind must be one of {', '.join(kinds)}", locate(fields_, ["kind"], source))
    number(fields_, "speed_mbps", source, int)


def number(data: Any, key: str, source: str, kind: type = float, limit: float = INT32) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"'{key}' must be a number, got {value!r}", locate(data, [key], source))
    if not 0 <= value <= limit:
        raise ValidationError(f"'{key}' must be between 0 and {limit}", locate(data, [key], source))
    return kind(value)


def text(data: Any, key: str, source: str) -> str | None:
    """A name-like value (a type, a feed leg, a position): a plain scalar, kept as text."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ValidationError(
            f"'{key}' must be a plain value, not a {type(value).__name__}", locate(data, [key], source)
        )
    return check_text(str(value), key, locate(data, [key], source), limit=64)
