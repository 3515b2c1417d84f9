"""The `@pod:` group (issue 16): a rack's pod from its template, `rack create --pod` or `rack edit --pod`,
held to the name rule, and `@pod:NAME` resolved from the stored names only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]
TEMPLATES = Path(__file__).parents[2] / "rack_templates"
HOSTILE = [
    "p1,@all",
    "p1 p2",
    "$(reboot)",
    "`id`",
    "p1\nx",
    "../p1",
    "p[1-2]",
    "p\u043ed",
    "'p1'",
    "p" * 64,
    "-p1",
    "@all",
]


def _pods(cli: Cli) -> dict[str, str | None]:
    return {r["name"]: r["pod"] for r in cli("rack", "list", "--json").json()}


def test_a_pod_template_puts_its_racks_in_the_pod_it_was_created_as(cli: Cli) -> None:
    assert cli("rack", "create", "p1", "-t", "h100-pod-2rack-ib", "-s", "fra1").exit_code == 0
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert _pods(cli) == {"p1a": "p1", "p1b": "p1", "r12": None}
    in_pod = cli("device", "list", "@pod:p1", "--json").json()
    in_racks = cli("device", "list", "@rack:p1a,@rack:p1b", "--json").json()
    assert in_pod and [d["name"] for d in in_pod] == [d["name"] for d in in_racks]
    both = cli("device", "list", "@pod:p1&@role:gpu-node", "--json").json()
    assert len(both) == 8


def test_rack_create_and_rack_edit_set_the_pod(cli: Cli) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1", "--pod", "west").exit_code == 0
    assert _pods(cli) == {"r12": "west"}
    assert len(cli("device", "list", "@pod:west", "--json").json()) == 12
    dry = cli("rack", "edit", "r12", "--pod", "east", "--dry-run", "--json")
    assert dry.exit_code == 0 and dry.json() == {"rack": "r12", "changes": {"pod": ["west", "east"]}, "dry_run": True}
    assert _pods(cli) == {"r12": "west"}
    moved = cli("rack", "edit", "r12", "--pod", "east")
    assert (moved.exit_code, moved.stdout.strip()) == (0, "rack r12: pod: west -> east")
    assert cli("device", "list", "@pod:west").exit_code == 2  # an empty group is "matches no device"
    assert cli("rack", "edit", "r12", "--pod", "").exit_code == 0 and _pods(cli) == {"r12": None}
    changes = cli("log", "--target", "r12", "--kind", "rack", "--json").json()
    assert any("pod" in str(c) for c in changes)


def test_rack_edit_with_nothing_to_change_or_an_unknown_rack_is_one_line(cli: Cli) -> None:
    nothing = cli("rack", "edit", "r12")
    assert nothing.exit_code == 2 and nothing.stderr.startswith("error: nothing to change")
    assert cli("rack", "edit", "r99", "--pod", "p1").exit_code == 2


def _one_error(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and lines[0].startswith("error: ") and len(lines) <= 2, result.stderr
    return lines[0]


@pytest.mark.parametrize("pod", HOSTILE)
def test_hostile_pod_names_are_refused_everywhere_and_write_nothing(
    r12: Cli, row_counts: Counts, pod: str, tmp_path: Path
) -> None:
    before = row_counts()
    _one_error(r12("rack", "create", "r13", "-t", "h100-4node-air", "-s", "fra1", "--pod", pod))
    _one_error(r12("rack", "edit", "r12", "--pod", pod))
    template = tmp_path / "t.yaml"
    shipped = (TEMPLATES / "h100-4node-air.yaml").read_text(encoding="utf-8")
    # A template's pod is a pattern (`{pod}` is the name given to `rack create`); the name rule applies to
    # what it makes. json.dumps writes a YAML string with every character kept.
    template.write_text(shipped + f"pod: {json.dumps(pod)}\n", encoding="utf-8")
    error = _one_error(r12("rack", "create", "r14", "-t", str(template), "-s", "fra1"))
    assert "pod" in error
    assert row_counts() == before


def test_pod_groups_use_the_stored_name_only(r12: Cli, db: Any) -> None:
    from sqlalchemy import text

    with db.engine.begin() as conn:  # a name stored past the rule: it must not be parsed as node-set syntax
        conn.execute(text("UPDATE racks SET pod = 'p1,@all' WHERE name = 'r12'"))
    assert r12("device", "list", "@pod:p1", "--json").exit_code == 2
    assert r12("rack", "create", "r13", "-t", "h100-4node-air", "-s", "fra1", "--pod", "p1").exit_code == 0
    assert len(r12("device", "list", "@pod:p1", "--json").json()) == 12
