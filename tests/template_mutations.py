"""A hypothesis strategy shared by the template property tests: a shipped template with a few of its
values replaced by odd ones, or deleted, written back as YAML."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import strategies as st

from rackctl.paths import shipped_dir


def shipped(name: str) -> Any:
    return yaml.safe_load((shipped_dir("rack_templates") / f"{name}.yaml").read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path below `node`, e.g. ('devices', 4, 'u', 1)."""
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += _paths(child, (*prefix, key))
    return found


def mutated_templates(
    templates: dict[str, Any], values: st.SearchStrategy[Any], most: int = 3
) -> st.SearchStrategy[str]:
    """YAML of one of `templates` with 1 to `most` values replaced from `values` (or, one time in four, removed)."""
    paths = {name: _paths(data) for name, data in templates.items()}

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(sorted(templates)))
        data = copy.deepcopy(templates[name])
        for _ in range(draw(st.integers(1, most))):
            path = draw(st.sampled_from(paths[name]))
            parent = data
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if draw(st.integers(0, 3)):
                    parent[path[-1]] = draw(values)
                else:
                    del parent[path[-1]]
            except (KeyError, IndexError, TypeError):
                continue
        return yaml.safe_dump(data)

    return mutate()


def edit(text: str, old: str, new: str) -> tuple[str, int]:
    """`text` with `old` replaced by `new`, and the line number of the last line of `new`."""
    assert old in text, old
    edited = text.replace(old, new, 1)
    return edited, edited[: edited.index(new)].count("\n") + 1 + new.rstrip("\n").count("\n")
