"""Find, read and check rack templates; errors name the file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from rackctl.errors import NotFound, ValidationError
from rackctl.inventory.models.profile import PROFILE_FIELDS
from rackctl.inventory.templates.expr import PatternError, render
from rackctl.inventory.templates.names import check_template_names
from rackctl.inventory.templates.schema import TEMPLATE_SCHEMA
from rackctl.paths import shipped_dir
from rackctl.yamlsrc import load_text, locate

_VALIDATOR = jsonschema.Draft202012Validator(TEMPLATE_SCHEMA)
_PROFILE_KEYS = {*PROFILE_FIELDS, "description", "extra", "firmware", "bios"}


@dataclass(frozen=True)
class RackTemplate:
    """A checked template and the file it came from."""

    name: str
    source: str
    data: Any

    def where(self, *path: str | int) -> Any:
        return locate(self.data, list(path), self.source)

    @property
    def description(self) -> str:
        return str(self.data.get("description", ""))


def template_dirs(extra: tuple[str, ...] = ()) -> list[Path]:
    return [Path(d) for d in extra] + [shipped_dir("rack_templates")]


def find_template(name_or_path: str, extra_dirs: tuple[str, ...] = ()) -> Path:
    """A template by path, or by name in the configured folders and then the shipped ones."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise NotFound(f"template file {path} does not exist")
        return path
    for folder in template_dirs(extra_dirs):
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name_or_path}{suffix}"
            if candidate.is_file():
                return candidate
    raise NotFound(f"no rack template named '{name_or_path}'", hint="rackctl rack templates lists them")


def list_templates(extra_dirs: tuple[str, ...] = ()) -> list[Path]:
    seen: dict[str, Path] = {}
    for folder in template_dirs(extra_dirs):
        for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
            seen.setdefault(path.stem, path)
    return sorted(seen.values(), key=lambda p: p.stem)


def load_template(name_or_path: str, extra_dirs: tuple[str, ...] = ()) -> RackTemplate:
    path = find_template(name_or_path, extra_dirs)
    return parse_template(path.read_text(encoding="utf-8"), str(path))


def parse_template(text: str, source: str) -> RackTemplate:
    """Parse and check a template: the schema, then the rules a schema cannot say."""
    data = load_text(text, source)
    if not isinstance(data, dict):
        raise ValidationError("a rack template is a YAML mapping", locate(data, [], source))
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        raise ValidationError(_schema_message(error), locate(data, _error_path(error), source))
    template = RackTemplate(str(data["name"]), source, data)
    _check_profiles(template)
    check_template_names(template)
    _check_references(template)
    return template


def _unknown_keys(error: jsonschema.ValidationError) -> list[str]:
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    return sorted(k for k in error.instance if k not in error.schema.get("properties", {}))


def _error_path(error: jsonschema.ValidationError) -> list[str | int]:
    # An unknown key is named by itself (its own line and field), not by the mapping that holds it.
    return [*error.absolute_path, *_unknown_keys(error)[:1]]


def _schema_message(error: jsonschema.ValidationError) -> str:
    unknown = _unknown_keys(error)
    if unknown:
        return f"unknown key '{unknown[0]}'"
    if error.validator == "pattern" and "env:" in str(error.validator_value):
        return "must be a secret reference (env:NAME, file:/path or cred:NAME), never the secret itself"
    return error.message


def _check_profiles(template: RackTemplate) -> None:
    for name, values in (template.data.get("profiles") or {}).items():
        for key in values:
            if key not in _PROFILE_KEYS:
                raise ValidationError(
                    f"unknown profile setting '{key}'",
                    template.where("profiles", name, key),
                    hint=", ".join(sorted(_PROFILE_KEYS)),
                )


def _check_references(template: RackTemplate) -> None:
    data = template.data
    rack_count = len(data.get("racks") or [None])
    feeds = {f["name"] for f in data["rack"]["feeds"]}
    profiles = set(data.get("profiles") or {})
    sample = {"rack": "r1", "pod": "p1", "site": "s1", "u": 1, "i": 1, "n": 1}
    for index, entry in enumerate(data.get("racks") or []):
        _check_pattern(template, entry["name"], {"pod": "p1"}, ("racks", index, "name"))
    if "pod" in data:
        _check_pattern(template, data["pod"], {"pod": "p1", "site": "s1"}, ("pod",))
    for index, device in enumerate(data["devices"]):
        if max(rack_numbers(device)) > rack_count:
            raise ValidationError(
                f"rack {device['rack']} but the template has {rack_count}",
                template.where("devices", index, "rack"),
            )
        if "feed" in device and device["feed"] not in feeds:
            raise ValidationError(
                f"feed '{device['feed']}' is not one of {sorted(feeds)}",
                template.where("devices", index, "feed"),
            )
        if "profile" in device and device["profile"] not in profiles:
            raise ValidationError(
                f"profile '{device['profile']}' is not defined under profiles",
                template.where("devices", index, "profile"),
            )
        _check_pattern(template, device["name"], sample, ("devices", index, "name"))
    for feed in (data.get("power") or {}).get("pdus", {}):
        if feed not in feeds:
            raise ValidationError(f"feed '{feed}' is not one of {sorted(feeds)}", template.where("power", "pdus", feed))


def rack_numbers(entry: dict[str, Any]) -> list[int]:
    """The racks (1-based, in the template's `racks` order) a device entry is placed in."""
    value = entry.get("rack", 1)
    return list(value) if isinstance(value, list) else [value]


def _check_pattern(template: RackTemplate, pattern: str, variables: dict[str, Any], path: tuple[Any, ...]) -> None:
    try:
        render(pattern, variables)
    except PatternError as exc:
        raise ValidationError(str(exc), template.where(*path)) from None
