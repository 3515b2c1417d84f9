"""Run the site playbook through ansible-runner on the targets (no database session held while it runs).

Each run gets its own private folder (rundir.py); ansible-playbook sees a cleaned environment (no RACKCTL_*
settings, no database URL, no operator variables), its variables through a 0600 file (never its command line),
host keys checked against the inventory's pins only (sshtrust.py), an overall timeout, and a cancel switch; the
per-host verdicts come from the recap (verdict.py).
"""

from __future__ import annotations

import os
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rackctl.errors import PlaybookError
from rackctl.paths import shipped_dir
from rackctl.services.provision import rundir, sshtrust
from rackctl.services.provision.events import EventFolder, HostOutcome, Progress
from rackctl.services.provision.verdict import judge

# What ansible-playbook may inherit from rackctl's environment: how to run programs and reach an SSH agent.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TERM", "USER", "LOGNAME", "SSH_AUTH_SOCK")
# What ansible-runner adds for its own callback and artifacts.
_RUNNER_KEYS = ("ANSIBLE_", "AWX_", "RUNNER_", "ORIGINAL_STDOUT_CALLBACK", "AD_HOC_COMMAND_ID", "JOB_ID")


@dataclass(frozen=True)
class RunSpec:
    """What to run where: hosts, tags, check/diff, batches, limits, extra variables and inventory overrides."""

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
    # Ansible `serial`: how many nodes (or "25%") change at once, and the failure rate that stops the run.
    batch: str = "100%"
    max_fail_percentage: int = 100
    # The whole run's limit in seconds (0: none); an expired run leaves its nodes marked as interrupted.
    timeout_s: int = 0
    # What the operation log adds to the command to name this run: a queued job's `TARGETS (job N)`.
    label: str = ""

    @property
    def wants_burnin(self) -> bool:
        return "burnin" in self.tags


def command_line(spec: RunSpec) -> str:
    """The ansible-playbook options beyond inventory, limit and variables (which never go on the command line)."""
    parts: list[str] = []
    if spec.tags:
        parts += ["--tags", ",".join(spec.tags)]
    if spec.skip_tags:
        parts += ["--skip-tags", ",".join(spec.skip_tags)]
    parts += ["--check"] if spec.check else []
    parts += ["--diff"] if spec.diff else []
    return shlex.join(parts)


def run_variables(spec: RunSpec) -> dict[str, Any]:
    """The run's variables: the caller's, then the batch size and failure rate the play reads."""
    return {**spec.extra_vars, "rackctl_batch": spec.batch, "rackctl_max_fail_percentage": spec.max_fail_percentage}


def environment(runner_env: dict[str, str], project: Path, private: Path) -> dict[str, str]:
    """ansible-playbook's environment: ansible-runner's own additions and the basics, nothing else of ours."""
    operator = os.environ
    kept = {k: v for k, v in runner_env.items() if k in _INHERITED}
    kept |= {k: v for k, v in runner_env.items() if k.startswith(_RUNNER_KEYS) and operator.get(k) != v}
    return {
        **kept,
        "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        # Each host also gets these with its own name as the key's alias (sshtrust.pin_hosts).
        "ANSIBLE_SSH_ARGS": sshtrust.ssh_args(private / rundir.KNOWN_HOSTS),
    }


def _read_inventory(spec: RunSpec) -> tuple[dict[str, Any], sshtrust.Pins]:
    """The hosts' inventory document and their pinned SSH host keys, in one read."""
    from rackctl.inventory.db import Database, require_schema
    from rackctl.inventory.export import ansible_inventory

    db = Database(spec.db_url)
    try:
        require_schema(db)
        with db.transaction() as session:
            return ansible_inventory(session, list(spec.hosts)), sshtrust.Pins.read(session, spec.hosts)
    except PlaybookError:
        raise
    except Exception as exc:  # the database is the caller's; say what failed in one line
        raise PlaybookError(f"cannot read the inventory for the run: {exc}") from None
    finally:
        db.dispose()


class Cancel:
    """A switch the caller flips (e.g. on SIGINT) to stop the run; ansible-runner polls it."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self) -> bool:
        return self.event.is_set()


def run_playbook(
    spec: RunSpec, progress: Progress | None = None, cancel: Cancel | None = None
) -> dict[str, HostOutcome]:
    """Run the playbook on `spec.hosts`; one outcome per host, judged from the run's recap."""
    try:
        import ansible_runner
    except ImportError:
        raise PlaybookError("ansible-runner is not installed", hint="pip install 'rackctl[provision]'") from None
    for override in spec.overrides:
        if not override.is_file():
            raise PlaybookError(f"inventory override not found: {override}")
    document, pins = _read_inventory(spec)
    inventory = rundir.inventory_yaml(document, spec.hosts)
    project = shipped_dir("playbooks")
    folder = EventFolder(progress)
    with rundir.run_folder(spec.state_dir, inventory, run_variables(spec), pins) as private:
        runner = ansible_runner.interface.init_runner(
            private_data_dir=str(private),
            project_dir=str(project),
            playbook=str(project / spec.playbook),
            inventory=[str(private / "inventory" / "hosts.json"), *(str(p) for p in spec.overrides)],
            limit=",".join(spec.hosts),
            cmdline=command_line(spec) or None,
            forks=spec.forks,
            event_handler=folder,
            cancel_callback=cancel,
            timeout=spec.timeout_s or None,
            quiet=True,
            suppress_env_files=True,
        )
        runner.config.env = environment(runner.config.env, project, private)
        runner.run()
        if runner.status == "error" and not folder.outcomes:
            tail = (runner.stdout.read() if runner.stdout else "")[-600:]
            raise PlaybookError(f"ansible-playbook did not run (rc {runner.rc}): {tail.strip()}")
        sshtrust.explain(folder.outcomes, pins)
        return judge(spec.hosts, folder.outcomes, runner.status, runner.rc, runner.stats, spec.timeout_s)
