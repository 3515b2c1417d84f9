"""Run an audit: plan from the inventory, collect every layer at once (each bounded), compare, store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from rackctl import fanout, targets
from rackctl.drivers.hostfacts import HostFacts
from rackctl.inventory.db import Database, utcnow
from rackctl.services.audit import collect, store
from rackctl.services.audit.compare_bmc import compare_bmc
from rackctl.services.audit.compare_cabling import compare_cabling
from rackctl.services.audit.compare_host import compare_host
from rackctl.services.audit.compare_pdu import compare_feeds, compare_pdu
from rackctl.services.audit.compare_switch import compare_switch
from rackctl.services.audit.jobs import HostJob, Job, Plan, SshAccess, build_plan
from rackctl.services.audit.outcome import AuditReport, Outcome, Shard
from rackctl.services.audit.state import CablingObserved
from rackctl.types import Finding, Layer

ALL_LAYERS = tuple(Layer)


@dataclass(frozen=True)
class AuditOptions:
    layers: tuple[Layer, ...] = ALL_LAYERS
    workers: int = 64
    timeout: float = 30.0
    retries: int = 1
    shard: Shard | None = None
    ssh: SshAccess = field(default_factory=SshAccess)
    stop: fanout.Stop | None = field(default=None, compare=False)  # a queued job's deadline or abort

    def fanout(self) -> fanout.Options:
        return fanout.Options(workers=self.workers, timeout=self.timeout, retries=self.retries, stop=self.stop)


def _not_audited(device: str, layer: Layer, message: str) -> Outcome:
    return Outcome(device, layer, audited=False, message=message)


def _compared(
    device: str, layer: Layer, compare: Callable[[Any, Any], list[Finding]], expected: Any, observed: Any
) -> Outcome:
    """Compare; a comparison that breaks on odd data costs its own device, not the run."""
    try:
        return Outcome(device, layer, audited=True, findings=tuple(compare(expected, observed)))
    except Exception as exc:  # every target gets a result, even when rackctl itself is at fault
        return _not_audited(device, layer, f"comparison failed ({type(exc).__name__}: {exc}); please report it")


def _run_jobs(
    jobs: Sequence[Job], collector: Callable[..., list[fanout.Result[Any]]], compare: Callable[[Any, Any], list[Any]],
    options: fanout.Options,
) -> tuple[list[Outcome], dict[str, Any]]:  # fmt: skip
    """Outcomes of one out-of-band layer, and what each reachable device said (by device name)."""
    ready = [j for j in jobs if j.endpoint is not None]
    outcomes = [_not_audited(j.device, j.layer, j.problem) for j in jobs if j.endpoint is None]
    observed: dict[str, Any] = {}
    results = collector([j.endpoint for j in ready], options) if ready else []
    for job, result in zip(ready, results, strict=True):
        if not result.ok:
            outcomes.append(_not_audited(job.device, job.layer, result.message))
            continue
        observed[job.device] = result.value
        outcomes.append(_compared(job.device, job.layer, compare, job.expected, result.value))
    return outcomes, observed


def _host_outcomes(job: HostJob, result: fanout.Result[HostFacts] | None) -> list[Outcome]:
    layers = [(Layer.HOST, job.host), (Layer.CABLING, job.cabling)]
    wanted = [(layer, expected) for layer, expected in layers if expected is not None]
    facts = result.value if result is not None else None
    if result is None or facts is None:
        message = job.problem if result is None else result.message
        return [_not_audited(job.device, layer, message) for layer, _ in wanted]
    outcomes = []
    for layer, expected in wanted:
        if layer == Layer.HOST:
            outcomes.append(_compared(job.device, layer, compare_host, expected, facts))
        elif facts.lldp is None:
            outcomes.append(_not_audited(job.device, layer, f"host LLDP not readable: {facts.lldp_error}"))
        else:
            outcomes.append(_compared(job.device, layer, compare_cabling, expected, CablingObserved(facts.lldp)))
    return outcomes


def _run_hosts(jobs: Sequence[HostJob], options: fanout.Options) -> list[Outcome]:
    ready = [j for j in jobs if j.endpoint is not None]
    items = [(j.endpoint, j.request) for j in jobs if j.endpoint is not None]
    results = collect.collect_host(items, options) if items else []
    by_device = {job.device: result for job, result in zip(ready, results, strict=True)}
    return [o for job in jobs for o in _host_outcomes(job, by_device.get(job.device))]


def _run_pdus(plan: Plan, options: fanout.Options) -> list[Outcome]:
    outcomes, observed = _run_jobs(plan.pdu, collect.collect_pdu, compare_pdu, options)
    extra = [f for feed in plan.feeds if all(p in observed for ps in feed.pdus.values() for p in ps)
             for f in compare_feeds(feed, observed)]  # fmt: skip
    for finding in extra:
        outcomes = [replace(o, findings=(*o.findings, finding)) if o.device == finding.device else o for o in outcomes]
    return outcomes


def _bmc_collector(plan: Plan) -> Callable[..., list[fanout.Result[Any]]]:
    """The BMC collector, told per device whether its profile wants its firmware components and BIOS read."""
    reads = {job.device: job.expected.reads for job in plan.bmc}
    return lambda endpoints, options: collect.collect_bmc(endpoints, options, reads)


def execute(plan: Plan, options: AuditOptions) -> list[Outcome]:
    """Collect and compare every layer of the plan; layers run side by side, each bounded by `workers`."""
    opts = options.fanout()
    tasks: list[Callable[[], list[Outcome]]] = [
        lambda: _run_hosts(plan.hosts, opts),
        lambda: _run_jobs(plan.bmc, _bmc_collector(plan), compare_bmc, opts)[0],
        lambda: _run_jobs(plan.switch, collect.collect_switch, compare_switch, opts)[0],
        lambda: _run_jobs(plan.switch_cabling, collect.collect_switch_lldp, compare_cabling, opts)[0],
        lambda: _run_pdus(plan, opts),
    ]
    with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="rackctl-audit") as pool:
        outcomes = [o for future in [pool.submit(t) for t in tasks] for o in future.result()]
    order = {layer: i for i, layer in enumerate(Layer)}
    return sorted(outcomes, key=lambda o: (o.device, order[o.layer]))


def audit(db: Database, target: str, options: AuditOptions, actor: str, label: str = "") -> AuditReport:
    """Audit the target devices on the chosen layers and record the run; returns the report.

    `label` is what the run records as its targets (default: `target`; a queued job adds its id)."""
    started = utcnow()
    with db.transaction() as session:
        names = targets.resolve(session, target)
        plan = build_plan(session, names, options.layers, options.ssh, options.shard)
    outcomes = execute(plan, options)
    report = AuditReport(label or target, options.layers, started, utcnow(), outcomes, str(options.shard or ""))
    with db.transaction() as session:
        report.run_id = store.record(session, report, actor).id
    return report
