"""Per-host verdicts from what ansible-runner says about the whole run: its status, return code and the play recap
(`runner.stats`), not only the callback events (a crashed, cancelled or timed-out run sends no failure event for the
hosts it abandoned, and must never record them as provisioned)."""

from __future__ import annotations

from typing import Any

from rackctl.services.provision.events import HostOutcome

# Statuses after which the recap is complete and says what happened to every host that was reached.
FINISHED = ("successful", "failed")


def _recap(stats: dict[str, Any] | None, key: str) -> dict[str, int]:
    value = (stats or {}).get(key) or {}
    return value if isinstance(value, dict) else {}


def interrupted(host: str, status: str, rc: int | None, timeout_s: float) -> HostOutcome:
    """A host the run abandoned: whatever it was doing may be half done."""
    why = f"timed out after {timeout_s:g}s" if status == "timeout" and timeout_s else status
    return HostOutcome(
        host,
        ok=False,
        interrupted=True,
        message=f"run {why} (rc {rc}): the node's state is unknown, rerun provision",
    )


def judge(
    hosts: tuple[str, ...],
    folded: dict[str, HostOutcome],
    status: str,
    rc: int | None,
    stats: dict[str, Any] | None,
    timeout_s: float = 0,
) -> dict[str, HostOutcome]:
    """One outcome per host: the events' details, the recap's verdict."""
    if status not in FINISHED or stats is None:
        return {h: _merge(folded.get(h), interrupted(h, status, rc, timeout_s)) for h in hosts}
    processed, failures, dark = _recap(stats, "processed"), _recap(stats, "failures"), _recap(stats, "dark")
    verdicts = {}
    for host in hosts:
        outcome = folded.get(host) or HostOutcome(host)
        if host in dark:
            outcome.ok, outcome.unreachable = False, True
            outcome.message = outcome.message or "unreachable"
        elif host in failures:
            outcome.ok = False
            outcome.message = outcome.message or "failed (see the run's events)"
        elif host not in processed:
            outcome = HostOutcome(host, ok=False, reached=False, message=_not_reached(status, rc))
        verdicts[host] = outcome
    return verdicts


def _not_reached(status: str, rc: int | None) -> str:
    if status == "failed":
        return "not reached: the run stopped before this host's batch (too many failures in an earlier batch)"
    return f"not reached: the play never ran on this host (run {status}, rc {rc})"


def _merge(events: HostOutcome | None, verdict: HostOutcome) -> HostOutcome:
    if events is None:
        return verdict
    events.ok, events.interrupted = False, True
    events.message = verdict.message + (f" (last failure: {events.message})" if events.message else "")
    return events
