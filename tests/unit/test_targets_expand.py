"""Node-set expressions without the inventory: ranges and set operations, errors, and agreement with
ClusterShell's own NodeSet (fold and expand) on random name sets."""

from __future__ import annotations

import pytest
from ClusterShell.NodeSet import NodeSet
from hypothesis import given, settings
from hypothesis import strategies as st

from rackctl.errors import ValidationError
from rackctl.targets import expand, fold


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("gpu-r12-u03", ["gpu-r12-u03"]),
        ("gpu-r12-u[03,11]", ["gpu-r12-u03", "gpu-r12-u11"]),
        ("gpu-r12-u[01-03]", ["gpu-r12-u01", "gpu-r12-u02", "gpu-r12-u03"]),
        ("gpu-r12-u[03-27/8]", ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"]),
        ("gpu-r[12-13]-u01", ["gpu-r12-u01", "gpu-r13-u01"]),
        ("n[1-3],n5", ["n1", "n2", "n3", "n5"]),
        ("n[1-4]&n[3-6]", ["n3", "n4"]),
        ("n[1-4]!n2", ["n1", "n3", "n4"]),
        ("n[1-3]^n[2-4]", ["n1", "n4"]),
        ("n10,n9,n1", ["n1", "n9", "n10"]),  # natural order, not text order
        ("  n1  ", ["n1"]),
    ],
)
def test_expand(expression: str, expected: list[str]) -> None:
    assert expand(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "empty target expression"),
        ("   ", "empty target expression"),
        ("gpu[", "missing bracket"),
        ("gpu[1-]", "bad range"),
        ("n[5-3]", "bad range"),
        ("a,,b", "missing nodeset operand"),
        ("!x", "missing nodeset operand"),
        ("@rack:r12", "groups (@...) are resolved in the inventory only"),
        ("@all", "groups (@...) are resolved in the inventory only"),
    ],
)
def test_malformed_expressions_are_validation_errors(expression: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand(expression)


def test_fold() -> None:
    names = ["leaf-r12-b", "gpu-r13-u03", "leaf-r12-a"] + [f"gpu-r12-u{u:02d}" for u in (3, 11, 19, 27)]
    assert fold(names) == "gpu-r12-u[03,11,19,27],gpu-r13-u03,leaf-r12-a,leaf-r12-b"
    assert expand(fold(names)) == [
        "gpu-r12-u03",
        "gpu-r12-u11",
        "gpu-r12-u19",
        "gpu-r12-u27",
        "gpu-r13-u03",
        "leaf-r12-a",
        "leaf-r12-b",
    ]


_NAMES = st.builds(
    lambda prefix, number, width, suffix: f"{prefix}{number:0{width}d}{suffix}",
    st.sampled_from(["gpu-r12-u", "gpu-r13-u", "leaf-r", "n", "pdu-p1a-a"]),
    st.integers(0, 120),
    st.integers(1, 3),
    st.sampled_from(["", "-a", "-b"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAMES, min_size=1, max_size=25))
def test_expand_inverts_clustershell_fold(names: list[str]) -> None:
    folded = str(NodeSet.fromlist(names))
    assert fold(names) == folded
    expanded = expand(folded)
    assert set(expanded) == set(names)
    assert expanded == list(NodeSet(folded))
    assert fold(expanded) == folded


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=4),
    st.lists(st.integers(0, 60), max_size=5),
)
def test_ranges_and_exclusions_match_plain_set_arithmetic(ranges: list[tuple[int, int]], excluded: list[int]) -> None:
    spans = [(min(a, b), max(a, b)) for a, b in ranges]
    expression = "n[" + ",".join(f"{lo}-{hi}" for lo, hi in spans) + "]"
    if excluded:
        expression += "!n[" + ",".join(str(e) for e in excluded) + "]"
    wanted = {n for lo, hi in spans for n in range(lo, hi + 1)} - set(excluded)
    if not wanted:
        assert expand(expression) == []
        return
    assert expand(expression) == [f"n{n}" for n in sorted(wanted)]
