"""Issue 12 §1 at render time: every switch platform refuses intent holding a name the rule refuses (a row
that bypassed the write rule) and quotes free text for its own syntax. The property test renders every
platform from hostile intent and checks that each rendered line is the line the intent meant there."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from hostile import HOSTILE
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from intents import NAME_ROLES, intent, with_role

from rackctl.errors import ValidationError
from rackctl.inventory.names import check_interface, text_problem
from rackctl.services.switch.render import render

PLATFORMS = ("eos", "nxos", "cumulus", "sonic", "onyx", "linux")
PLACEHOLDERS = ["DESC0", "DESC1", "DESC2", "DESC3"]
SAFE_TEXT = re.compile(r'[A-Za-z0-9 ._,:/@+=()-]*"?')
# Printable descriptions that mean something to a shell or a vendor CLI; rendered, but quoted.
PRINTABLE_ATTACKS = ["y'$(id>/tmp/x)'", "a`id`", "x; reload", 'say "hi"', "x ! y", "what?", "#c", "a\\b", "Zürich"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_refuses_a_hostile_name_anywhere_in_its_intent(platform: str) -> None:
    for role in (r for r in NAME_ROLES if with_role(platform, r, "unused-name") != intent(platform)):
        for name in HOSTILE:
            with pytest.raises(ValidationError, match="refusing to render"):
                render(with_role(platform, role, name))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_refuses_descriptions_with_control_characters(platform: str) -> None:
    for bad in ("x\nusername evil privilege 15 secret x", "x\rreload", "x\x1b[2J", "x\u2028reload", "x" * 500):
        with pytest.raises(ValidationError, match="refusing to render"):
            render(intent(platform, descriptions=[bad]))


def _masked(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("D" if k == "description" else _masked(v)) for k, v in node.items()}
    return node


def _same_line(platform: str, line: str, reference: str) -> bool:
    """Whether a rendered line is the reference line with (quoted, safe) free text where placeholders are."""
    if platform == "cumulus":
        words, expected = shlex.split(line), shlex.split(reference)
        if len(words) != len(expected):
            return False
        return all(w == e or e in PLACEHOLDERS for w, e in zip(words, expected, strict=True))
    at = min((reference.find(p) for p in PLACEHOLDERS if p in reference), default=-1)
    if at < 0:
        return line == reference
    return line.startswith(reference[:at]) and SAFE_TEXT.fullmatch(line[at:]) is not None


def assert_same_structure(platform: str, rendered: str, reference: str) -> None:
    """Each rendered line is the line the reference has there: no line added, removed or split."""
    if platform == "sonic":
        assert _masked(json.loads(rendered)) == _masked(json.loads(reference))
        return
    lines, expected = rendered.split("\n"), reference.split("\n")
    assert len(lines) == len(expected), rendered
    for line, ref in zip(lines, expected, strict=True):
        assert _same_line(platform, line, ref), (line, ref)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_printable_attacks_in_descriptions_stay_inside_their_line(platform: str) -> None:
    for attack in PRINTABLE_ATTACKS:
        descriptions = [attack, f"{attack} {attack}", f"node {attack}", attack]
        assert_same_structure(
            platform,
            render(intent(platform, descriptions=descriptions)),
            render(intent(platform, descriptions=PLACEHOLDERS)),
        )


names = st.one_of(
    st.sampled_from(["leaf-r12-b", "gpu-r12-u07", "Ethernet9/1", "swp7", "tenant-2"]),
    st.sampled_from(sorted(HOSTILE)),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    platform=st.sampled_from(PLATFORMS),
    roles=st.dictionaries(st.sampled_from(NAME_ROLES), names, max_size=3),
    descriptions=st.lists(st.text(max_size=40), min_size=4, max_size=4),
)
@example(platform="onyx", roles={"access": ""}, descriptions=["", "", "", ""])
@example(platform="nxos", roles={"breakout": "A"}, descriptions=["", "", "", ""])
def test_hostile_intent_is_refused_or_renders_only_the_intended_lines(
    platform: str, roles: dict[str, str], descriptions: list[str]
) -> None:
    # A role the platform's intent has no place for (Onyx has no access port) cannot make it refuse.
    placed = [n for r, n in roles.items() if with_role(platform, r, "unused-name") != intent(platform)]
    try:
        rendered = render(intent(platform, roles, descriptions))
    except ValidationError:
        bad_name = any(_refused(check_interface, n) for n in placed)
        bad_text = any(text_problem(d, 200) for d in descriptions)
        # NX-OS addresses a breakout by its front-panel number, so a breakout port needs one.
        numberless_breakout = re.search(r"\d", roles.get("breakout", "0")) is None
        assert bad_name or bad_text or numberless_breakout
        return
    # It rendered: then every name passed the rule, and the lines are the intended ones.
    assert not any(_refused(check_interface, n) for n in placed)
    assert_same_structure(platform, rendered, render(intent(platform, roles, PLACEHOLDERS)))


def _refused(check: Callable[..., str], value: str) -> bool:
    try:
        check(value, "x")
    except ValidationError:
        return True
    return False
