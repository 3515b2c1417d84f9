"""Fold ansible-runner's event stream into one outcome per host: what changed, what failed and why."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Where a failed task leaves its reason when `msg` says nothing useful.
_GENERIC = {"", "One or more items failed", "All items completed", "non-zero return code"}


@dataclass
class HostOutcome:
    """One host's result of one playbook run."""

    host: str
    ok: bool = True
    unreachable: bool = False
    # The run stopped (timeout, cancel, crash) while this host was in it: its state is unknown.
    interrupted: bool = False
    # False when the play never ran on the host (a batch after the run stopped, a limit that missed it).
    reached: bool = True
    changed: int = 0
    changed_tasks: list[str] = field(default_factory=list)
    failed_task: str = ""
    message: str = ""
    diff: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "ok": self.ok,
            "unreachable": self.unreachable,
            "interrupted": self.interrupted,
            "reached": self.reached,
            "changed": self.changed,
            "changed_tasks": self.changed_tasks,
            "failed_task": self.failed_task,
            "message": self.message,
            "diff": self.diff,
            "facts": self.facts,
        }


def task_label(data: dict[str, Any]) -> str:
    """`role : task` as Ansible prints it."""
    role = data.get("role")
    task = str(data.get("task", "")).strip()
    return f"{role} : {task}" if role else task


def failure_message(res: dict[str, Any]) -> str:
    """The most specific reason a task result gives for failing."""
    message = str(res.get("msg", "")).strip()
    if message in _GENERIC:
        for item in res.get("results", []) or []:
            if isinstance(item, dict) and item.get("failed"):
                return failure_message(item)
        output = str(res.get("stderr") or res.get("stdout") or message).strip()
        message = output.splitlines()[-1] if output else message
    return message or "failed"


def render_diff(diff: Any) -> list[str]:
    """Ansible's before/after diff records as unified diff text."""
    records = diff if isinstance(diff, list) else [diff]
    texts = []
    for record in records:
        if not isinstance(record, dict):
            continue
        if "prepared" in record:
            texts.append(str(record["prepared"]))
            continue
        if "before" not in record and "after" not in record:
            continue
        before = str(record.get("before", "")).splitlines(keepends=True)
        after = str(record.get("after", "")).splitlines(keepends=True)
        lines = difflib.unified_diff(
            before, after, str(record.get("before_header", "before")), str(record.get("after_header", "after"))
        )
        texts.append("".join(lines))
    return [t for t in texts if t.strip()]


Progress = Callable[[str, str, str], None]


class EventFolder:
    """Consumes runner events (`event_handler`) and keeps a HostOutcome per host."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.outcomes: dict[str, HostOutcome] = {}
        self.progress = progress

    def outcome(self, host: str) -> HostOutcome:
        return self.outcomes.setdefault(host, HostOutcome(host))

    def __call__(self, event: dict[str, Any]) -> bool:
        kind = event.get("event", "")
        data = event.get("event_data", {}) or {}
        handler = getattr(self, "_" + kind, None)
        if handler is not None and data.get("host"):
            handler(self.outcome(data["host"]), data, data.get("res", {}) or {})
        return True

    def _tell(self, host: str, status: str, data: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(host, status, task_label(data))

    def _runner_on_ok(self, outcome: HostOutcome, data: dict[str, Any], res: dict[str, Any]) -> None:
        if "diff" in res and res.get("changed"):
            outcome.diff.extend(render_diff(res["diff"]))
        facts = res.get("ansible_facts", {}) or {}
        outcome.facts.update({k: v for k, v in facts.items() if k.startswith("rackctl_burnin")})
        if res.get("changed"):
            outcome.changed += 1
            outcome.changed_tasks.append(task_label(data))
            self._tell(outcome.host, "changed", data)
        else:
            self._tell(outcome.host, "ok", data)

    def _runner_on_failed(self, outcome: HostOutcome, data: dict[str, Any], res: dict[str, Any]) -> None:
        if data.get("ignore_errors"):
            return
        outcome.ok = False
        outcome.failed_task = task_label(data)
        outcome.message = failure_message(res)
        self._tell(outcome.host, "failed", data)

    def _runner_on_unreachable(self, outcome: HostOutcome, data: dict[str, Any], res: dict[str, Any]) -> None:
        outcome.ok = False
        outcome.unreachable = True
        outcome.failed_task = task_label(data)
        outcome.message = "unreachable: " + str(res.get("msg", "")).strip()
        self._tell(outcome.host, "unreachable", data)
