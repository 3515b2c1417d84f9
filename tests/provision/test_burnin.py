"""Burn-in: a sick node fails on what is wrong with it (figures recorded), an Xid during the stress runs fails the
node, and the Triton path installs, serves and passes its smoke test through Triton's own API. One run for the three
nodes. Only the two that start and stop services are booted systemd-nspawn machines; the sick node fails at the idle
checks, before any service is touched, so a chroot shows it. Each boot is bounded generously (a loaded 2-core CI
machine needs minutes), never waited on a fixed time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from rackctl.inventory.db import Database
from rackctl.lab.processes import wait_for
from rackctl.services.provision import HostOutcome
from rackctl.types import NodeState
from tests.provision.harness import Fleet, Lab, copy_inventory, node_state, run, set_profile, set_state

SICK, XID, TRITON = "gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19"
BOOT_TIMEOUT = 600
SERVING_START_S = 300.0  # the serving unit back to active after the burn-in restarted it
SICK_STATE = {
    "ecc-uncorrectable": "3:2",
    "remap-pending": "4",
    "pcie-width": "5:8",
    "nvlink-inactive": "2",
    "idle-throttle": "1:hw_slowdown",
}


@dataclass
class Burnin:
    db: Database
    lab: Lab
    outcomes: dict[str, HostOutcome]


@pytest.fixture(scope="module")
def burnin(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Burnin]:
    root = tmp_path_factory.mktemp("burnin")
    db = copy_inventory(fleet.db, root)
    lab = Lab(root / "lab", fleet.lab.image, fleet.lab.repo)
    try:
        lab.target(SICK, layers=(fleet.converged_layer,), state=SICK_STATE)
        layers = (fleet.converged_layer,)
        lab.target(XID, boot=True, boot_timeout=BOOT_TIMEOUT, layers=layers, state={"xid-during-diag": "18"})
        triton = lab.target(TRITON, boot=True, boot_timeout=BOOT_TIMEOUT, layers=layers)
        model = triton.root / "srv/models/llama-3.1-8b-instruct"
        model.mkdir(parents=True)
        (model / "config.pbtxt").write_text('backend: "vllm"\n')
        set_profile(
            db,
            TRITON,
            serving_runtime="triton",
            serving_model="llama-3.1-8b-instruct",
            tensor_parallel=1,
            extra={"serving": {"model_path": "/srv/models"}, "burnin": {"tokens_per_s": 100}},
        )
        for node in (SICK, XID, TRITON):
            set_state(db, node, NodeState.PROVISIONED)
        hosts = (SICK, XID, TRITON)
        outcomes = {o.host: o for o in run(db, hosts, lab.override(), root / "ansible", tags=("serving", "burnin"))}
        yield Burnin(db, lab, outcomes)
    finally:
        lab.stop()
        db.dispose()


def test_a_sick_node_fails_on_everything_wrong_with_it_and_records_its_figures(burnin: Burnin) -> None:
    outcome = burnin.outcomes[SICK]
    assert (outcome.ok, outcome.failed_task) == (False, "burnin : Check the GPUs are healthy at idle")
    for finding in (
        "GPU 3: 2 uncorrectable ECC errors",
        "GPU 4: row remapping pending",
        "GPU 5: PCIe x8, expected x16",
        "GPU 1: clocks throttled at idle (hw_slowdown)",
        "18 NVLinks inactive (GPU 2 link 0",
    ):
        assert finding in outcome.message
    state, reason = node_state(burnin.db, SICK)
    assert state == NodeState.FAILED
    assert "ecc_uncorrectable=2" in reason and "pcie_width_min=8" in reason and "nvlinks_inactive=18" in reason


def test_an_xid_during_the_stress_runs_fails_the_node_and_the_server_runs_again(burnin: Burnin) -> None:
    outcome = burnin.outcomes[XID]
    assert (outcome.ok, outcome.failed_task) == (False, "burnin : Check no Xid was reported during the runs")
    assert outcome.message == "GPU errors during burn-in: Xid 79 on 0000:18:00"
    target = next(t for t in burnin.lab.targets if t.name == XID)
    states: list[str] = []

    def serving() -> bool:
        states.append(target.run("systemctl", "is-active", "rackctl-serving.service").stdout.strip())
        return states[-1] == "active"

    # Started again at the end of the play, the server may still be "activating" (its start-up check):
    # wait on the state, within a bound only a broken unit exceeds.
    assert wait_for(serving, timeout=SERVING_START_S, interval=0.5), states[-3:]


def test_triton_serves_the_staged_model_and_passes_its_smoke_test(burnin: Burnin) -> None:
    outcome = burnin.outcomes[TRITON]
    assert (outcome.ok, outcome.message) == (True, "")
    target = next(t for t in burnin.lab.targets if t.name == TRITON)
    unit = (target.root / "etc/systemd/system/rackctl-serving.service").read_text()
    assert "--model-repository=/srv/models --model-control-mode=none --http-address=127.0.0.1 --http-port=8000" in unit
    # every listener on the profile's address (loopback by default): Triton binds 0.0.0.0 unless told
    assert "--grpc-address=127.0.0.1" in unit and "--metrics-address=127.0.0.1" in unit
    state, reason = node_state(burnin.db, TRITON)
    assert state == NodeState.VALIDATED and "tokens_per_s=" in reason and "dcgm_level=3" in reason
