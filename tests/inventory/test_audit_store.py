"""Audit runs and findings in the inventory: first seen, last seen, resolved; history and diffs.
(Also run on PostgreSQL in CI.)"""

from __future__ import annotations

from datetime import timedelta

from rackctl.inventory.db import Database, utcnow
from rackctl.services.audit import report as render
from rackctl.services.audit import store
from rackctl.services.audit.outcome import AuditReport, Outcome
from rackctl.types import Finding, Layer, Severity

FM = Finding("gpu-r12-u03", Layer.HOST, "service", "active (running)", "inactive (dead)", Severity.CRITICAL,
             "start it", "nvidia-fabricmanager.service")  # fmt: skip
MTU = Finding("gpu-r12-u11", Layer.HOST, "mtu", "9000", "1500", Severity.CRITICAL, "set MTU 9000", "bond0")
POWER = Finding("gpu-r12-u03", Layer.BMC, "power", "on", "off", Severity.CRITICAL, "rackctl power on gpu-r12-u03")


def outcome(device: str, layer: Layer, *findings: Finding, audited: bool = True, message: str = "") -> Outcome:
    return Outcome(device, layer, audited, tuple(findings), message)


def record(db: Database, *outcomes: Outcome, minutes: int = 0) -> int:
    when = utcnow() + timedelta(minutes=minutes)
    report = AuditReport("@rack:r12", (Layer.BMC, Layer.HOST), when, when, list(outcomes))
    with db.transaction() as session:
        return store.record(session, report, "tester").id


def test_findings_keep_first_seen_update_last_seen_and_resolve_when_fixed(db: Database) -> None:
    first = record(db, outcome("gpu-r12-u03", Layer.HOST, FM), outcome("gpu-r12-u11", Layer.HOST, MTU))
    second = record(db, outcome("gpu-r12-u03", Layer.HOST, FM), outcome("gpu-r12-u11", Layer.HOST), minutes=1)
    with db.transaction() as session:
        rows = {r.check: r for r in store.findings(session)}
        assert (rows["service"].first_seen_run_id, rows["service"].last_seen_run_id) == (first, second)
        assert rows["service"].resolved_at is None
        assert (rows["mtu"].last_seen_run_id, rows["mtu"].resolved_run_id) == (first, second)
        assert rows["mtu"].resolved_at is not None
        assert [r.check for r in store.findings(session, open_only=True)] == ["service"]
        assert [r.check for r in store.findings(session, ["gpu-r12-u11"])] == ["mtu"]


def test_a_device_that_could_not_be_audited_keeps_its_findings_open(db: Database) -> None:
    record(db, outcome("gpu-r12-u03", Layer.HOST, FM))
    unreachable = outcome("gpu-r12-u03", Layer.HOST, audited=False, message="gpu-r12-u03: No route to host")
    later = record(db, unreachable, minutes=1)
    with db.transaction() as session:
        (row,) = store.findings(session)
        assert row.resolved_at is None and row.last_seen_run_id != later
        run = store.run(session, later)
        assert (run.devices, run.findings, run.not_audited) == (1, 0, 1)
        assert [(r.device, r.outcome, r.message) for r in run.results] == [
            ("gpu-r12-u03", "not-audited", "gpu-r12-u03: No route to host")
        ]


def test_a_layer_not_audited_does_not_resolve_another_layers_findings(db: Database) -> None:
    record(db, outcome("gpu-r12-u03", Layer.HOST, FM), outcome("gpu-r12-u03", Layer.BMC, POWER))
    record(db, outcome("gpu-r12-u03", Layer.HOST), outcome("gpu-r12-u03", Layer.BMC, audited=False), minutes=1)
    with db.transaction() as session:
        assert [(r.layer.value, r.resolved_at is None) for r in store.findings(session)] == [
            ("bmc", True),
            ("host", False),
        ]


def test_a_finding_that_comes_back_is_a_new_finding(db: Database) -> None:
    record(db, outcome("gpu-r12-u03", Layer.HOST, FM))
    record(db, outcome("gpu-r12-u03", Layer.HOST), minutes=1)
    third = record(db, outcome("gpu-r12-u03", Layer.HOST, FM), minutes=2)
    with db.transaction() as session:
        rows = store.findings(session)
        assert [(r.first_seen_run_id, r.resolved_at is None) for r in rows] == [(third, True), (1, False)]


def test_diff_shows_what_appeared_what_was_fixed_and_what_is_unknown(db: Database) -> None:
    a = record(db, outcome("gpu-r12-u03", Layer.HOST, FM), outcome("gpu-r12-u03", Layer.BMC, POWER),
               outcome("gpu-r12-u11", Layer.HOST))  # fmt: skip
    b = record(db, outcome("gpu-r12-u03", Layer.HOST), outcome("gpu-r12-u03", Layer.BMC, audited=False),
               outcome("gpu-r12-u11", Layer.HOST, MTU), minutes=1)  # fmt: skip
    with db.transaction() as session:
        result = store.diff(session, a, b)
    assert [c.key for c in result.appeared] == [("gpu-r12-u11", "host", "mtu", "bond0")]
    assert [c.key for c in result.fixed] == [("gpu-r12-u03", "host", "service", "nvidia-fabricmanager.service")]
    assert [c.key for c in result.unknown] == [("gpu-r12-u03", "bmc", "power", "")]
    assert result.still_open == []
    assert store.changes_as_dicts(result.appeared)[0]["observed"] == "1500"


def test_history_lists_runs_newest_first_and_filters_by_device(db: Database) -> None:
    first = record(db, outcome("gpu-r12-u03", Layer.HOST))
    second = record(db, outcome("gpu-r12-u11", Layer.HOST, MTU), minutes=1)
    with db.transaction() as session:
        assert [r.id for r in store.runs(session)] == [second, first]
        assert [r.id for r in store.runs(session, ["gpu-r12-u03"])] == [first]
        assert [r.id for r in store.runs(session, limit=1)] == [second]


def test_latest_state_feeds_the_prometheus_exporter(db: Database) -> None:
    record(db, outcome("gpu-r12-u03", Layer.HOST, FM), outcome("gpu-r12-u11", Layer.HOST, MTU))
    record(db, outcome("gpu-r12-u11", Layer.HOST, audited=False, message="timeout"), minutes=1)
    with db.transaction() as session:
        latest = store.latest(session)
        newest = store.last_run(session)
        assert newest is not None
        text = render.prometheus(latest, newest.finished_at)
    assert [(o.device, o.audited, len(o.findings)) for o in latest] == [
        ("gpu-r12-u03", True, 1),
        ("gpu-r12-u11", False, 1),
    ]
    assert 'rackctl_drift_findings{device="gpu-r12-u03",layer="host",check="service",severity="critical"} 1' in text
    assert 'rackctl_audit_audited{device="gpu-r12-u11",layer="host"} 0' in text
