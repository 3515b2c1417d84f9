"""The bring-up steps: each a function of one node returning ok, or a message and a technician's hint."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from rackctl import fanout, secrets
from rackctl.errors import ConfigError
from rackctl.inventory.db import Database
from rackctl.services import bringup_oob, hostkeys
from rackctl.services.provision.runner import RunSpec, run_playbook
from rackctl.services.provision.service import burnin_summary
from rackctl.types import Endpoint, NodeState

_SCAN = fanout.Options(workers=1, timeout=30.0, retries=1)  # one key read, right after the banner came
PRE_POWER = frozenset({NodeState.PLANNED, NodeState.RACKED, NodeState.CABLED})
DONE = frozenset({NodeState.VALIDATED, NodeState.IN_SERVICE})


@dataclass(frozen=True)
class StepResult:
    ok: bool
    message: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Settings:
    """How bring-up runs: timings, and the provisioning run every node shares."""

    run: RunSpec
    stagger_s: float = 5.0
    ssh_timeout_s: float = 900.0
    ssh_poll_s: float = 2.0
    # `--trust-new-keys`: who pins the SSH host key a node presents once it answers (empty: nobody, keys must be
    # pinned already with `rackctl trust`).
    trust_new_keys_by: str = ""


@dataclass(frozen=True)
class Node:
    """What the steps know of one node: a snapshot taken before any step runs (no database row)."""

    name: str
    state: NodeState
    index: int
    settings: Settings
    ssh_host: str | None = None
    ssh_port: int = 22
    endpoint: Endpoint | None = None
    credential_ref: str = ""


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Node], StepResult]
    reaches: NodeState | None = None


def _endpoint(node: Node) -> Endpoint:
    if node.endpoint is None:
        raise ConfigError(f"{node.name} has no management endpoint", hint="add its BMC address (rackctl import csv)")
    password = secrets.resolve(node.credential_ref) if node.credential_ref else None
    return replace(node.endpoint, password=password)


def check_bmc(node: Node) -> StepResult:
    """The BMC answers with the inventory's credentials."""
    bringup_oob.bmc_reachable(_endpoint(node))
    return StepResult(True)


def boot_pxe(node: Node) -> StepResult:
    """The next boot (only) goes to the network installer."""
    bringup_oob.boot_pxe_once(_endpoint(node))
    return StepResult(True)


def power_on(node: Node) -> StepResult:
    """Power on, staggered by the node's position so a rack's inrush is spread out."""
    time.sleep(node.index * node.settings.stagger_s)
    bringup_oob.power_on(_endpoint(node))
    return StepResult(True)


def ssh_banner(host: str, port: int, timeout: float) -> str:
    """The SSH identification line a server sends first (RFC 4253, 4.2)."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.settimeout(timeout)
        data = conn.recv(256).decode("ascii", "replace")
    return data.splitlines()[0] if data else ""


def trust_first_key(node: Node) -> StepResult:
    """`bringup --trust-new-keys`: pin the key the installed node presents where bring-up reaches it, when
    nothing is pinned yet (logged); a changed key is never replaced here (provisioning then refuses it)."""
    actor = node.settings.trust_new_keys_by
    if not actor or not node.ssh_host:
        return StepResult(True)
    db = Database(node.settings.run.db_url)
    try:
        place = {node.name: (node.ssh_host, node.ssh_port)}
        pinned = hostkeys.trust_new(db, actor, "bringup", [node.name], _SCAN, place)
    finally:
        db.dispose()
    return StepResult(True, f"trusted {pinned[0].key_type} {pinned[0].fingerprint}" if pinned else "")


def wait_for_ssh(node: Node) -> StepResult:
    """Wait until the installed OS answers SSH on the node's provisioning address."""
    if not node.ssh_host:
        return StepResult(False, "no address to reach the node on", "give its bond an address in the inventory")
    deadline = time.monotonic() + node.settings.ssh_timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            if ssh_banner(node.ssh_host, node.ssh_port, 5.0).startswith("SSH-"):
                return trust_first_key(node)
            last = "answered, but not with an SSH banner"
        except (OSError, IndexError) as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(node.settings.ssh_poll_s)
    return StepResult(
        False,
        f"no SSH on {node.ssh_host}:{node.ssh_port} after {node.settings.ssh_timeout_s:g}s ({last})",
        "watch the console (SOL): did the PXE install finish? check the bond's switch ports and that sshd runs",
    )


_BURNIN_HINTS = (
    ("dcgm", "replace or reseat the GPU the DCGM diagnostic names (RMA if it fails again), then rerun"),
    ("bus bandwidth", "check NVLink/NVSwitch health (nvidia-smi nvlink --status, Fabric Manager log), then rerun"),
    ("inference", "read the server's log (journalctl -u rackctl-serving) and check the model store, then rerun"),
)


def _playbook(node: Node, tags: tuple[str, ...], hint: str) -> StepResult:
    spec = replace(node.settings.run, hosts=(node.name,), tags=tags)
    outcome = run_playbook(spec).get(node.name)
    if outcome is None:
        return StepResult(False, "the playbook never reached the node", "check the inventory override for this node")
    if outcome.ok:
        return StepResult(True, burnin_summary(outcome) if spec.wants_burnin else f"{outcome.changed} task(s) changed")
    message = f"{outcome.failed_task}: {outcome.message}"
    return StepResult(False, message, next((h for key, h in _BURNIN_HINTS if key in message.lower()), hint))


def provision_node(node: Node) -> StepResult:
    """Converge the node to its profile (playbooks/site.yml)."""
    return _playbook(node, (), "fix what the failed task says (profile, repository, hardware), then rerun")


def burn_in(node: Node) -> StepResult:
    """DCGM diagnostic, nccl-tests bandwidth and an inference smoke test against the profile's floors."""
    return _playbook(node, ("burnin",), "fix what the failed check says, then rerun")


STEPS = (
    Step("bmc", check_bmc),
    Step("pxe", boot_pxe),
    Step("power", power_on, NodeState.POWERED),
    Step("ssh", wait_for_ssh),
    Step("provision", provision_node, NodeState.PROVISIONED),
    Step("burnin", burn_in, NodeState.VALIDATED),
)


def plan(state: NodeState) -> list[Step]:
    """The steps left for a node in `state` (a failed node resumes from where it failed)."""
    if state in PRE_POWER:
        return list(STEPS)
    names = {NodeState.POWERED: ("ssh", "provision", "burnin"), NodeState.PROVISIONED: ("ssh", "burnin")}
    return [s for s in STEPS if s.name in names.get(state, ())]
