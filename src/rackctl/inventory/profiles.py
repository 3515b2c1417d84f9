"""Edit a profile: its columns, its description and its structured sections (`extra`, `firmware`,
`bios`), checked as a rack template's profiles are."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml

from rackctl.errors import Location, ValidationError
from rackctl.inventory.models import Profile
from rackctl.inventory.models.profile import PROFILE_FIELDS
from rackctl.inventory.names import check_text, check_token
from rackctl.inventory.serving import check_serving
from rackctl.inventory.templates.schema import PROFILE_SCHEMA

SECTIONS = ("extra", "firmware", "bios")  # JSON columns: a dotted path sets a value inside them


def _parse(assignment: str) -> tuple[str, str]:
    field, sep, value = assignment.partition("=")
    if not sep or not field.strip():
        raise ValidationError(f"'{assignment}' is not FIELD=VALUE", Location(field="--set"))
    return _known(field.strip()), value.strip()


def _known(field: str) -> str:
    section, dot, rest = field.partition(".")
    if field in PROFILE_FIELDS or (section in SECTIONS and dot and rest):
        return field
    known = [*PROFILE_FIELDS, *(f"{s}.KEY[.KEY...]" for s in SECTIONS)]
    raise ValidationError(f"a profile has no field '{field}'", hint="fields: " + ", ".join(known))


def _typed(field: str, value: str) -> Any:
    """A column's value from the command line: a whole number where the column holds one."""
    if Profile.__table__.columns[field].type.python_type is int:
        if not value.lstrip("-").isdigit():
            raise ValidationError(f"'{value}' is not a whole number", Location(field=field))
        return int(value)
    return check_token(value, field)


def _node(tree: dict[str, Any], section: str, path: list[str], create: bool) -> dict[str, Any] | None:
    """The mapping that holds `path`'s last key (made on the way when `create`)."""
    node = tree
    for depth, key in enumerate(path[:-1], start=1):
        child = node.setdefault(key, {}) if create else node.get(key)
        if not isinstance(child, dict):
            if create:
                where = ".".join([section, *path[:depth]])
                raise ValidationError(f"{where} holds {child!r}, not settings", Location(field="--set"))
            return None
        node = child
    return node


def _apply(sections: dict[str, dict[str, Any]], field: str, value: str | None) -> None:
    section, *path = field.split(".")
    node = _node(sections[section], section, path, create=value is not None)
    if node is None:
        return
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = yaml.safe_load(value) if value else None


def edit(profile: Profile, sets: list[str], unsets: list[str], description: str | None) -> dict[str, Any]:
    """Apply `FIELD=VALUE` settings and removals; the profile as a whole must still be valid.
    Returns field (or dotted path) -> [before, after] for what changed."""
    values: dict[str, Any] = {f: getattr(profile, f) for f in PROFILE_FIELDS}
    # deep copies of plain values, changed here and compared with the stored ones at the end
    sections = {s: yaml.safe_load(yaml.safe_dump(getattr(profile, s) or {})) for s in SECTIONS}
    for field in (_known(f) for f in unsets):
        if field in PROFILE_FIELDS:
            values[field] = None
        else:
            _apply(sections, field, None)
    for field, value in (_parse(a) for a in sets):
        if field in PROFILE_FIELDS:
            values[field] = _typed(field, value) if value else None
        else:
            _apply(sections, field, value)
    text = profile.description if description is None else check_text(description, "--description")
    _validate({**{k: v for k, v in values.items() if v is not None}, "description": text, **sections})
    return _store(profile, {**values, "description": text}, sections)


def _store(profile: Profile, wanted: dict[str, Any], sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    changed = {k: [getattr(profile, k), v] for k, v in wanted.items() if getattr(profile, k) != v}
    for section, new in sections.items():
        old_flat, new_flat = _flat(getattr(profile, section) or {}, section), _flat(new, section)
        for key in sorted(old_flat.keys() | new_flat.keys()):
            if old_flat.get(key) != new_flat.get(key):
                changed[key] = [old_flat.get(key), new_flat.get(key)]
        if old_flat != new_flat:
            setattr(profile, section, new)
    for field, value in wanted.items():
        setattr(profile, field, value)
    return changed


def _flat(tree: dict[str, Any], prefix: str) -> dict[str, Any]:
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
    serving = (data.get("extra") or {}).get("serving")
    if serving is not None:
        check_serving(serving, lambda key: Location(field=f"extra.serving.{key}" if key else "extra.serving"))
