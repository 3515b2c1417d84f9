"""Run a worker for some sites and kinds of work, and write its systemd unit.

A worker listens to SITE.KIND for each site it serves (all of the inventory's sites, and the unracked
devices, when none is named) and each kind it is set up for. Beside procrastinate's own worker loop it
sweeps for jobs of dead workers (recovery.py). SIGINT/SIGTERM stop it after the jobs in hand finish.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from rackctl.errors import ValidationError
from rackctl.inventory.db import Database
from rackctl.inventory.models import Site
from rackctl.jobs import queue as queues
from rackctl.jobs import recovery
from rackctl.jobs.tasks import WorkerSetup
from rackctl.services.audit.jobs import SshAccess
from rackctl.services.audit.schedule import Interval, credential_lines, exec_line, rackctl_command


@dataclass(frozen=True)
class WorkerPlan:
    sites: tuple[str, ...]
    kinds: tuple[queues.Kind, ...]
    concurrency: int = 4
    name: str = ""
    job_timeout: float = 1800.0  # a job still running after this is stopped (guard.py)
    stalled_after: float = 30.0  # a worker silent this long is dead; its jobs are recovered
    audit_every: Interval | None = None  # scheduled audits of the plan's sites, as periodic tasks
    audit_layers: tuple[str, ...] = ()

    @property
    def heartbeat(self) -> float:
        return max(0.2, self.stalled_after / 4)

    def args(self) -> list[str]:
        """The `rackctl worker` arguments that start this plan."""
        sites = ["--site", ",".join(self.sites)] if self.sites else []
        kinds = ["--queues", ",".join(k.value for k in self.kinds)]
        named = ["--name", self.name] if self.name else []
        return [*sites, *kinds, "--concurrency", str(self.concurrency), *named,
                "--job-timeout", f"{self.job_timeout:g}", "--stalled-after", f"{self.stalled_after:g}",
                *(["--audit-every", str(self.audit_every), "--audit-layers", ",".join(self.audit_layers)]
                  if self.audit_every else [])]  # fmt: skip


def queue_names(db: Database, plan: WorkerPlan) -> list[str]:
    """The queues the plan serves: its sites' (every site and the unracked devices when none is named)."""
    sites = sites_of(db, plan) + ([] if plan.sites else [queues.UNRACKED])
    return [queues.queue_name(site, kind) for site in sites for kind in plan.kinds]


def sites_of(db: Database, plan: WorkerPlan) -> list[str]:
    """The sites the plan serves: those named, else every site of the inventory."""
    if plan.sites:
        return list(plan.sites)
    with db.transaction() as session:
        return list(session.scalars(select(Site.name).order_by(Site.name)))


def schedule_audits(app: Any, plan: WorkerPlan, sites: list[str]) -> None:
    """Each site's audit as a procrastinate periodic task on SITE.audit: whichever worker of the site is up
    queues its racks' audit jobs once per tick (procrastinate keeps one defer per tick and site)."""
    if plan.audit_every is None or queues.Kind.AUDIT not in plan.kinds:
        return
    task = app.tasks[queues.SCHEDULED_AUDIT]
    for site in sites:
        queue = queues.queue_name(site, queues.Kind.AUDIT)
        arguments = {"site": site, "layers": list(plan.audit_layers)}
        app.periodic(cron=plan.audit_every.cron(), periodic_id=site, queue=queue, task_kwargs=arguments)(task)


async def _serve(url: str, db: Database, plan: WorkerPlan, setup: WorkerSetup, names: list[str]) -> None:
    app = queues.make_app(url)
    schedule_audits(app, plan, sites_of(db, plan))
    async with app.open_async():
        sweeper = asyncio.create_task(recovery.sweep_forever(app, db, plan.stalled_after, plan.stalled_after / 2))
        try:
            await app.run_worker_async(
                queues=names,
                concurrency=plan.concurrency,
                name=setup.name,
                additional_context={"rackctl": setup},
                update_heartbeat_interval=plan.heartbeat,
                stalled_worker_timeout=plan.stalled_after,
                fetch_job_polling_interval=2.0,
                delete_jobs="never",
                install_signal_handlers=True,
            )
        finally:
            sweeper.cancel()


def check_tools(plan: WorkerPlan) -> None:
    """A worker serves `provision` only where Ansible runs: refused in one line before it takes a job."""
    if queues.Kind.PROVISION in plan.kinds and (
        importlib.util.find_spec("ansible_runner") is None or shutil.which("ansible-playbook") is None
    ):
        raise ValidationError(
            "--queues provision: this host cannot run Ansible (ansible-runner and ansible-playbook are needed)",
            hint="install the provision extra here, or leave provision to a worker that has it",
        )


def run(url: str, db: Database, plan: WorkerPlan, ssh: SshAccess, name: str) -> None:
    """Serve the plan's queues until SIGINT/SIGTERM (the queue's schema is applied first if missing)."""
    queues.ensure_schema(url)
    setup = WorkerSetup(db, ssh, plan.job_timeout, name, url)
    asyncio.run(_serve(url, db, plan, setup, queue_names(db, plan)))


def unit(plan: WorkerPlan, credentials: tuple[tuple[str, str], ...] = ()) -> str:
    """A systemd service running the worker, restarted when it dies (its jobs are recovered meanwhile)."""
    argv = [*rackctl_command(), "worker", *plan.args()]
    return "\n".join([
        "[Unit]",
        f"Description=rackctl worker ({' '.join(plan.args())})",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        "# Settings (RACKCTL_DB_URL: the PostgreSQL inventory, RACKCTL_SSH_KEY ...) live in this file; secrets do not.",
        "EnvironmentFile=-/etc/rackctl/worker.env",
        *credential_lines(credentials),
        f"ExecStart={exec_line(argv)}",
        "# SIGTERM: take no new job, finish the ones in hand (each bounded by --job-timeout).",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={int(plan.job_timeout) + 60}",
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])  # fmt: skip


def write_unit(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.service"
    path.write_text(text)
    return path
