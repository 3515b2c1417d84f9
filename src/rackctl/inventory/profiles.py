"""Edit a profile: its columns, its description and the settings under `extra`, checked as templates are."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from rackctl.errors import Location, ValidationError
from rackctl.inventory.models import Profile
from rackctl.inventory.models.profile import PROFILE_FIELDS
from rackctl.inventory.names import check_text, check_token
from rackctl.inventory.templates.schema import PROFILE_SCHEMA


def _parse(assignment: str) -> tuple[str, str]:
    field, sep, value = assignment.partition("=")
    if not sep or not field.strip():
        raise ValidationError(f"'{assignment}' is not FIELD=VALUE", Location(field="--set"))
    return field.strip(), value.strip()


def _typed(field: str, value: str) -> Any:
    """A column's value from the command line: a whole number where the column holds one."""
    if Profile.__table__.columns[field].type.python_type is int:
        if not value.lstrip("-").isdigit():
            raise ValidationError(f"'{value}' is not a whole number", Location(field=field))
        return int(value)
    return check_token(value, field)


def _set_extra(extra: dict[str, Any], path: list[str], value: str) -> None:
    node = extra
    for key in path[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValidationError(f"extra.{key} holds {child!r}, not settings", Location(field="--set"))
        node = child
    node[path[-1]] = yaml.safe_load(value) if value else None


def _unset_extra(extra: dict[str, Any], path: list[str]) -> None:
    node = extra
    for key in path[:-1]:
        node = node.get(key) if isinstance(node.get(key), dict) else {}
    node.pop(path[-1], None)


def _known(field: str) -> str:
    if field in PROFILE_FIELDS or (field.startswith("extra.") and len(field) > len("extra.")):
        return field
    raise ValidationError(
        f"a profile has no field '{field}'", hint="fields: " + ", ".join(PROFILE_FIELDS) + ", extra.KEY[.KEY...]"
    )


def edit(profile: Profile, sets: list[str], unsets: list[str], description: str | None) -> dict[str, Any]:
    """Apply `FIELD=VALUE` settings and removals; the profile as a whole must still be valid.
    Returns field -> [before, after] for what changed."""
    values: dict[str, Any] = {f: getattr(profile, f) for f in PROFILE_FIELDS}
    extra = yaml.safe_load(yaml.safe_dump(profile.extra or {}))  # a deep copy of plain values
    for field in (_known(f) for f in unsets):
        if field in PROFILE_FIELDS:
            values[field] = None
        else:
            _unset_extra(extra, field.split(".")[1:])
    for field, value in (_parse(a) for a in sets):
        if _known(field) in PROFILE_FIELDS:
            values[field] = _typed(field, value) if value else None
        else:
            _set_extra(extra, field.split(".")[1:], value)
    text = profile.description if description is None else check_text(description, "--description")
    _validate({**{k: v for k, v in values.items() if v is not None}, "description": text, "extra": extra})
    wanted = {**values, "description": text}
    changed = {k: [getattr(profile, k), v] for k, v in wanted.items() if getattr(profile, k) != v}
    old_extra, new_extra = _flat(profile.extra or {}), _flat(extra)
    for key in sorted(old_extra.keys() | new_extra.keys()):
        if old_extra.get(key) != new_extra.get(key):
            changed[key] = [old_extra.get(key), new_extra.get(key)]
    for field in wanted:
        setattr(profile, field, wanted[field])
    if old_extra != new_extra:
        profile.extra = extra
    return changed


def _flat(tree: dict[str, Any], prefix: str = "extra") -> dict[str, Any]:
    """`{"vlans": {"tenant": 100}}` -> `{"extra.vlans.tenant": 100}`, to show what changed."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}"
        out.update(_flat(value, path) if isinstance(value, dict) and value else {path: value})
    return out


def _validate(data: dict[str, Any]) -> None:
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(PROFILE_SCHEMA).iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "profile"
        raise ValidationError(error.message, Location(field=where))
