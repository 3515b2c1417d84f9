"""Run the site playbook through ansible-runner against the rackctl inventory (no database session held)."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rackctl.errors import PlaybookError
from rackctl.paths import shipped_dir
from rackctl.services.provision.events import EventFolder, HostOutcome, Progress

INVENTORY_SCRIPT = "rackctl_inventory.py"


@dataclass(frozen=True)
class RunSpec:
    """What to run where: hosts, tags, check/diff, extra variables and inventory overrides."""

    hosts: tuple[str, ...]
    db_url: str
    state_dir: Path
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    check: bool = False
    diff: bool = False
    playbook: str = "site.yml"
    extra_vars: dict[str, Any] = field(default_factory=dict)
    # Inventory files layered over the database's (connection details, lab targets); never stored.
    overrides: tuple[Path, ...] = ()
    forks: int = 32

    @property
    def wants_burnin(self) -> bool:
        return "burnin" in self.tags


def inventory_script() -> Path:
    script = shipped_dir("inventory") / INVENTORY_SCRIPT
    if not script.is_file():
        raise PlaybookError(f"inventory script not found: {script}")
    return script


def command_line(spec: RunSpec) -> str:
    """The ansible-playbook options beyond inventory and limit."""
    parts: list[str] = []
    if spec.tags:
        parts += ["--tags", ",".join(spec.tags)]
    if spec.skip_tags:
        parts += ["--skip-tags", ",".join(spec.skip_tags)]
    parts += ["--check"] if spec.check else []
    parts += ["--diff"] if spec.diff else []
    return shlex.join(parts)


def _environment(spec: RunSpec, project: Path) -> dict[str, str]:
    # The inventory script runs in Ansible's process tree: give it this database and this rackctl.
    paths = [p for p in (os.environ.get("PYTHONPATH", ""), *sys.path) if p]
    return {
        "RACKCTL_DB_URL": spec.db_url,
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
        "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
    }


def run_playbook(spec: RunSpec, progress: Progress | None = None) -> dict[str, HostOutcome]:
    """Run the playbook on `spec.hosts`; one outcome per host that took part."""
    try:
        import ansible_runner
    except ImportError:
        raise PlaybookError("ansible-runner is not installed", hint="pip install 'rackctl[provision]'") from None

    for override in spec.overrides:
        if not override.is_file():
            raise PlaybookError(f"inventory override not found: {override}")
    project = shipped_dir("playbooks")
    spec.state_dir.mkdir(parents=True, exist_ok=True)
    folder = EventFolder(progress)
    runner = ansible_runner.run(
        private_data_dir=str(spec.state_dir),
        project_dir=str(project),
        playbook=str(project / spec.playbook),
        inventory=[str(inventory_script()), *(str(p) for p in spec.overrides)],
        limit=",".join(spec.hosts),
        cmdline=command_line(spec) or None,
        extravars=spec.extra_vars or None,
        envvars=_environment(spec, project),
        forks=spec.forks,
        event_handler=folder,
        quiet=True,
        rotate_artifacts=20,
        suppress_env_files=True,
    )
    if runner.status not in ("successful", "failed") and not folder.outcomes:
        tail = (runner.stdout.read() if runner.stdout else "")[-600:]
        raise PlaybookError(f"ansible-playbook did not run ({runner.status}, rc {runner.rc}): {tail.strip()}")
    return folder.outcomes
