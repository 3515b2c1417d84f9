"""Audit results as data for scripts: JSON-ready dicts, Prometheus text (node_exporter's textfile
format), and JUnit XML for CI dashboards. Rendering only: the CLI decides where they go."""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rackctl.errors import ValidationError
from rackctl.services.audit.outcome import AuditReport, Outcome
from rackctl.types import Finding, Layer


def finding_dict(finding: Finding) -> dict[str, str]:
    return {
        "device": finding.device,
        "layer": finding.layer.value,
        "check": finding.check,
        "subject": finding.subject,
        "severity": finding.severity.value,
        "expected": finding.expected,
        "observed": finding.observed,
        "hint": finding.hint,
    }


def as_dict(report: AuditReport) -> dict[str, Any]:
    return {
        "run": report.run_id,
        "targets": report.targets,
        "layers": [layer.value for layer in report.layers],
        "shard": report.shard or None,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "exit_code": report.exit_code,
        "summary": summary(report.outcomes),
        "findings": [finding_dict(f) for f in report.findings],
        "not_audited": [{"device": o.device, "layer": o.layer.value, "reason": o.message} for o in report.not_audited],
        "results": [{"device": o.device, "layer": o.layer.value, "status": o.status} for o in report.outcomes],
    }


def summary(outcomes: Sequence[Outcome]) -> dict[str, int]:
    counts = Counter(o.status for o in outcomes)
    return {
        "devices": len({o.device for o in outcomes}),
        "clean": counts["clean"],
        "drift": counts["drift"],
        "not_audited": counts["not-audited"],
        "findings": sum(len(o.findings) for o in outcomes),
    }


def _label(value: str) -> str:
    # Prometheus exposition format: backslash, double quote and newline are escaped in label values.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: dict[str, str], value: float) -> str:
    inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    return f"{name}{{{inner}}} {value:g}"


def prometheus(outcomes: Sequence[Outcome], finished_at: datetime | None) -> str:
    """Metrics in the text exposition format: findings by device, layer, check and severity; which
    device layers were audited; when the last audit finished."""
    counts = Counter((f.device, f.layer.value, f.check, f.severity.value) for o in outcomes for f in o.findings)
    lines = [
        "# HELP rackctl_drift_findings Open drift findings by device, layer, check and severity.",
        "# TYPE rackctl_drift_findings gauge",
    ]
    for (device, layer, check, severity), count in sorted(counts.items()):
        labels = {"device": device, "layer": layer, "check": check, "severity": severity}
        lines.append(_series("rackctl_drift_findings", labels, count))
    lines += [
        "# HELP rackctl_audit_audited 1 if the device's layer was audited, 0 if it could not be (not audited).",
        "# TYPE rackctl_audit_audited gauge",
    ]
    for o in sorted(outcomes, key=lambda o: (o.device, o.layer.value)):
        lines.append(_series("rackctl_audit_audited", {"device": o.device, "layer": o.layer.value}, int(o.audited)))
    if finished_at is not None:
        lines += [
            "# HELP rackctl_audit_last_run_timestamp_seconds When the newest audit run finished.",
            "# TYPE rackctl_audit_last_run_timestamp_seconds gauge",
            f"rackctl_audit_last_run_timestamp_seconds {finished_at.timestamp():.0f}",
        ]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write a file so readers never see half of it (node_exporter's textfile collector requires it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _case(suite: ET.Element, device: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=device, name=name)


def junit(report: AuditReport) -> str:
    """One test suite per layer, one test case per device (passing when clean) and per finding."""
    root = ET.Element("testsuites", name="rackctl audit")
    for layer in report.layers:
        outcomes = [o for o in report.outcomes if o.layer == layer]
        suite = ET.SubElement(root, "testsuite", name=f"audit.{layer.value}")
        failures = errors = tests = 0
        for outcome in outcomes:
            if not outcome.audited:
                ET.SubElement(_case(suite, outcome.device, "audited"), "error", message=outcome.message)
                errors, tests = errors + 1, tests + 1
            elif not outcome.findings:
                _case(suite, outcome.device, "clean")
                tests += 1
            for finding in outcome.findings:
                _failure(_case(suite, outcome.device, _case_name(finding)), finding)
                failures, tests = failures + 1, tests + 1
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _case_name(finding: Finding) -> str:
    return f"{finding.check} {finding.subject}".strip()


def _failure(case: ET.Element, finding: Finding) -> None:
    message = f"expected {finding.expected}, observed {finding.observed}"
    failure = ET.SubElement(case, "failure", message=message, type=finding.severity.value)
    failure.text = finding.hint


def layers_from(text: str) -> tuple[Layer, ...]:
    """'bmc,host' -> (Layer.BMC, Layer.HOST); the order of Layer, duplicates dropped."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in {layer.value for layer in Layer}]
    if unknown or not names:
        known = ",".join(layer.value for layer in Layer)
        raise ValidationError(f"--layers: unknown layer '{(unknown or [text])[0]}'", hint=f"choose from {known}")
    return tuple(layer for layer in Layer if layer.value in names)
