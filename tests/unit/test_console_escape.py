"""`rackctl console` escape sequences: `~.` ends, `~?` helps, `~~` sends `~`, only at the start of a line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackctl.console_escape import EscapeFilter


@pytest.mark.parametrize(
    ("keys", "sent", "action"),
    [
        (b"ls -l\r", b"ls -l\r", None),
        (b"~.", b"", "quit"),
        (b"uptime\r~.", b"uptime\r", "quit"),
        (b"a~.", b"a~.", None),  # not at the start of a line: plain characters
        (b"~?", b"", "help"),
        (b"~~", b"~", None),
        (b"~x", b"~x", None),
        (b"\n~.", b"\n", "quit"),
    ],
)
def test_escapes(keys: bytes, sent: bytes, action: str | None) -> None:
    assert EscapeFilter().feed(keys) == (sent, action)


def test_an_escape_split_across_reads_still_ends_the_session() -> None:
    keys = EscapeFilter()
    assert keys.feed(b"~") == (b"", None)
    assert keys.feed(b".") == (b"", "quit")


def test_another_escape_character() -> None:
    assert EscapeFilter(b"&").feed(b"&.") == (b"", "quit")
    assert EscapeFilter(b"&").feed(b"~.") == (b"~.", None)


@given(st.binary(max_size=200).filter(lambda b: b"~" not in b))
def test_keystrokes_without_the_escape_pass_unchanged(keys: bytes) -> None:
    assert EscapeFilter().feed(keys) == (keys, None)
