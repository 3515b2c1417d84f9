"""Comparing version strings the way firmware and packages write them."""

from __future__ import annotations

import re


def version_parts(version: str) -> list[int | str]:
    """'1.02.04' -> [1, 2, 4]; 'v570.133.20-1' -> ['v570'...] is avoided by stripping a leading v."""
    text = version.strip().lower()
    text = text[1:] if text.startswith("v") and text[1:2].isdigit() else text
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\-+~_]", text) if p]


def same_version(expected: str, observed: str) -> bool:
    """Whether two strings name the same version, comparing the components both sides give.

    "1.02.04" equals "1.2.4"; IPMI's Get Device ID carries only major.minor, so "1.2" matches "1.02.04";
    "12.8" matches "12.8.1". Differing components never match: "570.133" is not "570.124".
    """
    want, have = version_parts(expected), version_parts(observed)
    shared = min(len(want), len(have))
    return shared > 0 and want[:shared] == have[:shared]


def version_at_least(observed: str, minimum: str) -> bool:
    have, want = version_parts(observed), version_parts(minimum)
    try:
        return have >= want
    except TypeError:
        return observed >= minimum
