"""PDU layer: outlet states against the devices they feed, load against ratings, A/B redundancy."""

from __future__ import annotations

from rackctl.services.audit.compare_common import maker, severity_for
from rackctl.services.audit.state import FeedPlan, PduExpected, PduObserved
from rackctl.types import Finding, Layer, NodeState, PowerState, Severity


def compare_pdu(expected: PduExpected, observed: PduObserved) -> list[Finding]:
    """Findings for one PDU: outlets that must be on, and its measured load against its rating."""
    make = maker(expected.device, Layer.PDU)
    findings = []
    for outlet in expected.outlets:
        state = observed.outlets.get(outlet.number, PowerState.UNKNOWN)
        if not outlet.must_be_on or state != PowerState.OFF:
            continue
        label = f"{expected.device}:{outlet.number}"
        owner = outlet.feeds.split()[0]
        hint = (
            f"outlet {label} feeds {outlet.feeds} ({outlet.device_state.value if outlet.device_state else '?'}) "
            f"and is off: find out who switched it (rackctl log), then rackctl pdu on {label}"
        )
        if outlet.device_state != NodeState.IN_SERVICE:
            hint += f"; if {owner} is being worked on, set it to maintenance first"
        findings.append(make("outlet", "on", "off", severity_for(outlet.device_state), hint, str(outlet.number)))
    if expected.usable_w and observed.load_w is not None and observed.load_w > expected.usable_w:
        hint = (
            f"{expected.device} carries {observed.load_w:.0f} W, over its {expected.usable_w:.0f} W continuous rating: "
            "move load to another PDU or cap GPU power before a breaker trips"
        )
        findings.append(
            make("pdu-load", f"<= {expected.usable_w:.0f} W", f"{observed.load_w:.0f} W", Severity.CRITICAL, hint)
        )
    return findings


def compare_feeds(plan: FeedPlan, observed: dict[str, PduObserved]) -> list[Finding]:
    """Per rack: each feed within its budget, and each feed able to carry the whole rack alone."""
    loads = {
        feed: sum(observed[p].load_w or 0.0 for p in pdus if p in observed and observed[p].load_w is not None)
        for feed, pdus in plan.pdus.items()
    }
    total = sum(loads.values())
    findings = []
    for feed, pdus in sorted(plan.pdus.items()):
        usable = plan.usable_w.get(feed)
        if not usable or not pdus:
            continue
        make = maker(pdus[0], Layer.PDU)
        if loads[feed] > usable:
            hint = f"feed {feed} of rack {plan.rack} is over budget: shed load or re-balance PSUs across feeds"
            findings.append(
                make("feed-load", f"<= {usable:.0f} W", f"{loads[feed]:.0f} W", Severity.CRITICAL, hint, feed)
            )
        elif len(plan.pdus) > 1 and total > usable:
            hint = (
                f"if the other feed fails, feed {feed} of rack {plan.rack} must carry {total:.0f} W, over its "
                f"{usable:.0f} W: A/B redundancy no longer holds; cap power or move a node"
            )
            findings.append(make("redundancy", f"<= {usable:.0f} W", f"{total:.0f} W", Severity.CRITICAL, hint, feed))
    return findings
