"""YAML that remembers where each value came from, so errors can name the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rackctl.errors import Location, ValidationError


class SourceDict(dict[str, Any]):
    """A mapping that knows the line of each of its keys."""

    lines: dict[str, int]
    line: int


class SourceList(list[Any]):
    """A sequence that knows the line of each of its items."""

    lines: list[int]
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> SourceDict:
    loader.flatten_mapping(node)
    out = SourceDict()
    out.lines, out.line = {}, node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain scalars", key_node.start_mark
            )
        key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> SourceList:
    out = SourceList(loader.construct_object(child, deep=True) for child in node.value)
    out.lines, out.line = [c.start_mark.line + 1 for c in node.value], node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)

# NOTE(security): a safe loader either way: libyaml's where PyYAML was built with it (ten times faster
# over the project's own data files), else the Python one. Neither builds Python objects from tags.
PLAIN_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_plain(text: str) -> Any:
    """Parse YAML that needs no line numbers (a data file rackctl ships) with the fastest safe loader."""
    return yaml.load(text, Loader=PLAIN_LOADER)


def load_text(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error names the source and line."""
    try:
        return yaml.load(text, Loader=_Loader)  # NOTE(security): _Loader is a SafeLoader keeping line numbers
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ValidationError(f"malformed YAML: {exc.problem or exc}", Location(source, line)) from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"malformed YAML: {exc}", Location(source)) from None


def load_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", Location(str(path))) from None
    return load_text(text, str(path))


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """The line of `node[key]` (or of `node` itself) when the node came from YAML."""
    if key is not None:
        lines = getattr(node, "lines", None)
        if isinstance(lines, dict) and key in lines:
            return lines[key]
        if isinstance(lines, list) and isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(node, "line", None)


def locate(root: Any, path: list[str | int], source: str) -> Location:
    """The location of a value reached from `root` by `path` (the deepest line known)."""
    node, line = root, line_of(root)
    for step in path:
        line = line_of(node, step) or line
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    field = ".".join(str(p) for p in path) or None
    return Location(source, line, field)
