"""What every layer's comparison shares: making findings and comparing versions."""

from __future__ import annotations

import re
from collections.abc import Callable

from rackctl.types import Finding, Layer, NodeState, Severity

MakeFinding = Callable[..., Finding]

# States in which the plan says a device is energised; in-service ones are the ones that matter most.
ENERGISED = frozenset({NodeState.POWERED, NodeState.PROVISIONED, NodeState.VALIDATED, NodeState.IN_SERVICE})


def maker(device: str, layer: Layer) -> MakeFinding:
    """A Finding factory bound to one device and layer."""

    def make(
        check: str, expected: object, observed: object, severity: Severity, hint: str, subject: str = ""
    ) -> Finding:
        return Finding(device, layer, check, str(expected), str(observed), severity, hint, subject)

    return make


def version_parts(version: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\-+~]", version.strip()) if p]


def versions_match(expected: str, observed: str) -> bool:
    """Whether `observed` is `expected` or a more precise form of it ('12.8' matches '12.8.1')."""
    want, have = version_parts(expected), version_parts(observed)
    return bool(want) and have[: len(want)] == want


def version_at_least(observed: str, minimum: str) -> bool:
    have, want = version_parts(observed), version_parts(minimum)
    try:
        return have >= want
    except TypeError:
        return observed >= minimum


def severity_for(state: NodeState | None) -> Severity:
    """Drift on an in-service device is critical; on one being brought up, a warning."""
    return Severity.CRITICAL if state == NodeState.IN_SERVICE else Severity.WARNING
