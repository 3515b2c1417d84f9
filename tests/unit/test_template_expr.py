"""The name-pattern renderer of rack templates: what it computes, what it refuses, and that it never
fails with anything but PatternError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackctl.inventory.templates.expr import MAX_PATTERN, PatternError, expand_values, render

VARS = {"rack": "r12", "pod": "p1", "u": 3, "n": 2, "k": 3, "i": 5}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("gpu-{rack}-u{u:02d}", "gpu-r12-u03"),
        ("pdu-{rack}-a1", "pdu-r12-a1"),
        ("{pod}a", "p1a"),
        ("Ethernet{31 + k}/1", "Ethernet34/1"),
        ("swp{i + 16}", "swp21"),
        ("Port {i + 8}", "Port 13"),
        # the pod template's InfiniBand fabric: node 2, port 3 -> cage 4, split 2
        ("1/{((n - 1) * 4 + k) // 2 + 1}/{((n - 1) * 4 + k) % 2 + 1}", "1/4/2"),
        ("{-u}", "-3"),
        ("{u * 3 - 1:>4}", "   8"),
        ("literal {{braces}}", "literal {braces}"),
        ("no fields", "no fields"),
    ],
)
def test_render(pattern: str, expected: str) -> None:
    assert render(pattern, VARS) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("gpu-{rak}", "unknown variable 'rak' (known: i, k, n, pod, rack, u)"),
        ("{rack.upper}", "'rack.upper' is not allowed"),
        ("{len(rack)}", "'len(rack)' is not allowed"),
        ("{u ** 2}", "'u ** 2' is not allowed"),
        ("{u / 2}", "'u / 2' is not allowed"),
        ("{u if n else k}", "is not allowed"),
        ("{rack!r}", "conversions (!r) are not supported"),
        ("{u // 0}", "division by zero"),
        ("{u % 0}", "division by zero"),
        ("{rack + 1}", "arithmetic needs whole numbers"),
        ("{-rack}", "arithmetic needs whole numbers"),
        ("gpu-{rack", "expected '}' before end of string"),
        ("gpu-}", "Single '}'"),
        ("{u +}", "cannot read '{u +}'"),
        ("{rack:d}", "Unknown format code 'd'"),
        ("{u:{n}}", "Invalid format specifier"),
        ("{1114112:c}", "arg not in range"),
        ("{u:999999999d}", "is too wide"),
        ("x" * (MAX_PATTERN + 1), f"longer than {MAX_PATTERN}"),
    ],
)
def test_render_refuses(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        render(pattern, VARS)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ([1, 3], [1, 3]),
        ("0-3", [0, 1, 2, 3]),
        (" 4 - 5 ", [4, 5]),
        ("7", ["7"]),
        (5, [5]),
        ("a-b", ["a-b"]),
        ("-3", ["-3"]),
    ],
)
def test_expand_values(spec: object, expected: list[object]) -> None:
    assert expand_values(spec) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_renders_or_is_refused_as_pattern_error(pattern: str) -> None:
    with contextlib.suppress(PatternError):
        assert isinstance(render(pattern, VARS), str)


_FIELD_TEXT = st.text(alphabet="un k+-*/%()0123456789:d!.'{}abc", max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab-/", max_size=4), _FIELD_TEXT), max_size=4))
def test_pattern_shaped_text_renders_or_is_refused(parts: list[tuple[str, str]]) -> None:
    pattern = "".join(f"{literal}{{{field}}}" for literal, field in parts)
    with contextlib.suppress(PatternError):
        render(pattern, VARS)


def _expression(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["u", "n", "k", "i"]))
    if depth == 0:
        return leaf
    inner = _expression(depth - 1)
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "//", "%"]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    return st.one_of(leaf, binary, inner.map(lambda e: f"-{e}"))


@settings(max_examples=300, deadline=None)
@given(_expression(3))
def test_arithmetic_agrees_with_python(expression: str) -> None:
    names = {k: v for k, v in VARS.items() if isinstance(v, int)}
    try:
        expected = str(eval(expression, {"__builtins__": {}}, names))  # integers, names and operators only
    except ZeroDivisionError:
        with pytest.raises(PatternError, match="division by zero"):
            render(f"{{{expression}}}", VARS)
        return
    assert render(f"{{{expression}}}", VARS) == expected
