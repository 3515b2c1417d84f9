"""`targets.listed` (the names of a NodeSet without ClusterShell's per-name sort key) gives exactly what
ClusterShell's own iteration gives, in the same order, for every kind of node set: padded and mixed
padding, steps, several patterns, two dimensions, negative indexes, names without an index, a `%` in a
name. The expected values are ClusterShell's `list(NodeSet(...))` for the same input."""

from __future__ import annotations

import pytest
from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet
from hypothesis import given
from hypothesis import strategies as st

from rackctl.targets import listed


def _both(expression: str) -> tuple[list[str], list[str]]:
    nodes = NodeSet(expression, resolver=RESOLVER_NOGROUP)
    return listed(nodes), list(NodeSet(expression, resolver=RESOLVER_NOGROUP))


@pytest.mark.parametrize(
    "expression",
    [
        "n[1-20]",
        "n[01-20]",
        "n[1-3,01-03,001]",  # mixed padding: ClusterShell orders by length, then text
        "n[1-30/7]",
        "gpu-r[12-13]-u[01-08]",  # two dimensions: left to ClusterShell
        "a[1-3],b[1-2],a10,login",
        "n[-3-2]",
        "n%[1-3]",
        "x[9-11]y,x[1-2]",
        "plain",
    ],
)
def test_listed_is_clustershells_own_iteration(expression: str) -> None:
    ours, theirs = _both(expression)
    assert ours == theirs


_RANGE = st.tuples(st.integers(0, 150), st.integers(0, 40), st.integers(0, 2))  # low, width, extra padding


def _range(low: int, high: int, extra: int) -> str:
    """`low-high`, both ends zero-padded to one width when `extra` asks for padding (ClusterShell's rule)."""
    if not extra:
        return f"{low}-{high}"
    digits = len(str(high)) + extra - 1
    return f"{low:0{digits}d}-{high:0{digits}d}"


@given(st.lists(st.tuples(st.sampled_from(["n", "gpu-", "r1u", "x"]), st.lists(_RANGE, min_size=1, max_size=4))))
def test_listed_agrees_with_clustershell_on_random_sets(patterns: list[tuple[str, list[tuple[int, int, str]]]]) -> None:
    terms = [
        prefix + "[" + ",".join(_range(low, low + width, extra) for low, width, extra in ranges) + "]"
        for prefix, ranges in patterns
    ]
    expression = ",".join(terms) or "n1"
    ours, theirs = _both(expression)
    assert ours == theirs
