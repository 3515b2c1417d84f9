"""What every layer's comparison shares: making findings and comparing versions."""

from __future__ import annotations

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


def severity_for(state: NodeState | None) -> Severity:
    """Drift on an in-service device is critical; on one being brought up, a warning."""
    return Severity.CRITICAL if state == NodeState.IN_SERVICE else Severity.WARNING
