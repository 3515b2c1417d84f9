"""Run the bring-up steps over many nodes: resumable from each node's lifecycle state, never stopping early."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from rackctl import fanout
from rackctl.errors import RackctlError, ValidationError
from rackctl.inventory import queries
from rackctl.inventory.db import Database, utcnow
from rackctl.inventory.export import host_vars
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device
from rackctl.inventory.names import one_line
from rackctl.services import oplog
from rackctl.services.bringup.steps import DONE, Node, Settings, Step, StepResult, plan
from rackctl.services.provision.service import check_targets
from rackctl.types import Endpoint, NodeState, transition_allowed


@dataclass
class Report:
    """One node's bring-up: where it started and ended, and what the technician should do about a failure."""

    node: str
    start: NodeState
    end: NodeState
    ok: bool
    steps: list[str] = field(default_factory=list)
    failed_step: str = ""
    message: str = ""
    hint: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "start": self.start.value, "end": self.end.value}


def override_vars(paths: tuple[Path, ...], host: str) -> dict[str, Any]:
    """A host's variables from YAML inventory overrides (all.vars, then all.hosts.HOST), later files winning."""
    merged: dict[str, Any] = {}
    for path in paths:
        group = (yaml.safe_load(path.read_text()) or {}).get("all", {}) or {}
        merged.update(group.get("vars", {}) or {})
        merged.update((group.get("hosts", {}) or {}).get(host, {}) or {})
    return merged


def resume_state(device: Device) -> NodeState:
    """The state a node continues from: its own, or for a failed node the state it failed in."""
    if device.state != NodeState.FAILED:
        return device.state
    into_failed = [c for c in device.history if c.to_state == NodeState.FAILED and c.from_state is not None]
    return into_failed[-1].from_state if into_failed else NodeState.PLANNED  # type: ignore[return-value]


def _node(device: Device, index: int, settings: Settings) -> Node:
    hostvars = {**host_vars(device), **override_vars(settings.run.overrides, device.name)}
    mgmt = device.mgmt
    endpoint = None
    if mgmt is not None and mgmt.address:
        endpoint = Endpoint(
            device.name,
            mgmt.address,
            mgmt.port,
            mgmt.effective_protocol.value,
            mgmt.username,
            verify_tls=mgmt.verify_tls,
            options=dict(mgmt.options or {}),
        )
    return Node(
        name=device.name,
        state=resume_state(device),
        index=index,
        settings=settings,
        ssh_host=hostvars.get("ansible_host"),
        ssh_port=int(hostvars.get("ansible_port", 22)),
        endpoint=endpoint,
        credential_ref=mgmt.credential_ref if mgmt else "",
    )


def load_nodes(session: Session, names: list[str], settings: Settings) -> list[Node]:
    """Snapshot the nodes (no database rows leave this function)."""
    check_targets(session, names)
    devices = queries.devices(session, names)
    for device in devices:
        if device.state in (NodeState.MAINTENANCE, NodeState.DECOMMISSIONED):
            raise ValidationError(f"{device.name} is in {device.state}: take it out before bring-up")
    return [_node(d, i, settings) for i, d in enumerate(devices)]


class Recorder:
    """Writes lifecycle moves as they happen, one short transaction each, from any worker thread."""

    def __init__(self, db: Database, actor: str) -> None:
        self.db, self.actor = db, actor
        self._lock = threading.Lock()

    def move(self, name: str, state: NodeState, reason: str) -> None:
        with self._lock, self.db.transaction() as session:
            device = queries.device(session, name)
            allowed = transition_allowed(device.state, state)
            change_state(session, device, state, self.actor, one_line(reason, 512), force=not allowed)


def _attempt(step: Step, node: Node) -> StepResult:
    try:
        return step.run(node)
    except RackctlError as exc:
        return StepResult(False, str(exc), exc.hint or "")


def run_node(node: Node, recorder: Recorder) -> Report:
    """Every step left for the node, in order, stopping at its first failure."""
    report = Report(node.name, node.state, node.state, True)
    if node.state in DONE:
        report.message = f"already {node.state}"
        return report
    for step in plan(node.state):
        result = _attempt(step, node)
        if not result.ok:
            recorder.move(node.name, NodeState.FAILED, f"bringup {step.name}: {result.message}")
            report.ok, report.end = False, NodeState.FAILED
            report.failed_step, report.message, report.hint = step.name, result.message, result.hint
            return report
        report.steps.append(step.name)
        if step.reaches is not None:
            recorder.move(node.name, step.reaches, f"bringup {step.name}: {result.message or 'ok'}")
            report.end = step.reaches
    report.message = "validated"
    return report


def bringup(db: Database, names: list[str], settings: Settings, actor: str, workers: int = 32) -> list[Report]:
    """Bring every node as far as it goes; one Report each, recorded in the operation log."""
    with db.transaction() as session:
        nodes = load_nodes(session, names, settings)
    started = utcnow()
    recorder = Recorder(db, actor)
    options = fanout.Options(workers=workers, timeout=24 * 3600, retries=0)
    results = fanout.run(lambda n: run_node(n, recorder), nodes, [n.name for n in nodes], options)
    reports = [
        r.value if r.value is not None else Report(n.name, n.state, n.state, False, message=r.message)
        for r, n in zip(results, nodes, strict=True)
    ]
    with db.transaction() as session:
        command = f"bringup {settings.run.label}" if settings.run.label else "bringup"
        oplog.record(session, actor, command, [_result(r) for r in reports], started_at=started)
    return reports


def _result(report: Report) -> oplog.TargetResult:
    message = report.message if report.ok else f"{report.failed_step}: {report.message}"
    detail = {"start": report.start.value, "end": report.end.value, "steps": report.steps, "hint": report.hint,
              "failed_step": report.failed_step}  # fmt: skip
    return oplog.TargetResult(report.node, report.ok, message, detail)
