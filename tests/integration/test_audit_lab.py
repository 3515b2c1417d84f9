"""The host and cabling layers end to end: `rackctl audit` over real SSH (OpenSSH's sshd in network
namespaces) against lab hosts whose personas answer like the inventory's H100 nodes, then drift
injected one fault at a time. Needs root (network namespaces), as CI runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.lab import hostlab, processes
from rackctl.lab.hostlab import HostLab
from rackctl.lab.hostpersona import Faults

Cli = Callable[..., Any]
NODES = "@rack:r12&@role:gpu-node"
PREFIX = "rkau"


@pytest.fixture(scope="module")
def lab(_template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostLab]:
    """The four GPU nodes of an h100-4node-air rack as lab hosts, started once for the module."""
    folder = tmp_path_factory.mktemp("hostlab")
    shutil.copy(_template_db, folder / "plan.db")
    db = Database(f"sqlite:///{folder / 'plan.db'}")
    with db.transaction() as session:
        create_racks(session, load_template("h100-4node-air"), "r12", "fra1", "tester")
    with db.transaction() as session:
        names = [f"gpu-r12-u{u:02d}" for u in (3, 11, 19, 27)]
        plans = hostlab.plans_from_inventory(session, names)
    db.dispose()
    started = hostlab.start(PREFIX, folder, plans)
    yield started
    started.stop()
    assert not hostlab.netns.namespaces(PREFIX) and not hostlab.netns.links(PREFIX)


@pytest.fixture
def rack(cli: Cli, db_url: str, lab: HostLab, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """This test's inventory with rack r12 pointing at the lab hosts; every host healed afterwards."""
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    db = Database(db_url)
    with db.transaction() as session:
        hostlab.point_inventory(session, lab)
    db.dispose()
    monkeypatch.setenv("RACKCTL_SSH_KEY", str(lab.keys.client))
    yield cli
    for name in lab.personas:
        lab.heal(name)


def audit(cli: Cli, target: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("audit", target, "--layers", "host,cabling", "--format", "json", *extra)
    return result.exit_code, result.json()


def found(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(f["device"], f["check"], f["subject"], f["observed"]) for f in data["findings"]]


def test_a_clean_lab_gives_zero_findings(rack: Cli) -> None:
    code, data = audit(rack, NODES)
    assert (code, data["findings"], data["not_audited"]) == (0, [], [])
    assert data["summary"] == {"devices": 4, "clean": 8, "drift": 0, "not_audited": 0, "findings": 0}


def test_wrong_driver_version_on_a_host(rack: Cli, lab: HostLab) -> None:
    lab.inject("gpu-r12-u03", Faults(driver_version="570.124.06"))
    code, data = audit(rack, NODES)
    assert code == 1
    assert found(data) == [
        ("gpu-r12-u03", "nvidia-driver", "", "570.124.06 loaded"),
        ("gpu-r12-u03", "fabricmanager-version", "", "570.133.20 (driver 570.124.06)"),
    ]
    assert data["findings"][0]["expected"] == "570.133.20"
    assert "rackctl provision gpu-r12-u03 --tags gpu_driver" in data["findings"][0]["hint"]


def test_fabric_manager_stopped(rack: Cli, lab: HostLab) -> None:
    lab.inject("gpu-r12-u11", Faults(fabricmanager_stopped=True))
    code, data = audit(rack, "gpu-r12-u11")
    assert code == 1
    assert found(data) == [("gpu-r12-u11", "service", "nvidia-fabricmanager.service", "inactive (dead)")]
    assert data["findings"][0]["severity"] == "critical"


def test_a_gpu_missing_nvidia_smi_shows_7_of_8(rack: Cli, lab: HostLab) -> None:
    lab.inject("gpu-r12-u19", Faults(gpus_missing=1, xid=79))
    code, data = audit(rack, "gpu-r12-u19")
    assert code == 1
    assert [(f["check"], f["expected"], f["observed"].split(" (")[0]) for f in data["findings"]] == [
        ("gpu-count", "8", "7"),
        ("gpu-xid", "no XID errors since boot", "XID 79 x1: [ 8123.456789] NVRM: Xid"),
    ]
    assert "7 of 8 GPUs" in data["findings"][0]["hint"]


def test_mtu_changed_and_serving_runtime_down(rack: Cli, lab: HostLab, tmp_path: Path) -> None:
    lab.inject("gpu-r12-u03", Faults(mtu={"bond0": 1500}, serving_down=True))
    code, data = audit(rack, "gpu-r12-u03")
    assert code == 1
    assert found(data) == [
        ("gpu-r12-u03", "serving-health", "", "HTTP 503"),
        ("gpu-r12-u03", "mtu", "bond0", "1500"),
        ("gpu-r12-u03", "mtu", "ens1f0np0", "1500"),
        ("gpu-r12-u03", "mtu", "ens1f1np1", "1500"),
    ]
    metrics = tmp_path / "audit.prom"
    result = rack("audit", "gpu-r12-u03", "--layers", "host", "--format", "prometheus", "--output", str(metrics))
    assert result.exit_code == 1
    text = metrics.read_text()
    assert 'rackctl_drift_findings{device="gpu-r12-u03",layer="host",check="mtu",severity="critical"} 3' in text
    result = rack("audit", "gpu-r12-u03", "--layers", "host", "--format", "junit")
    assert result.exit_code == 1 and 'failures="4"' in result.stdout and "set MTU 9000" in result.stdout


def test_two_cables_swapped(rack: Cli, lab: HostLab) -> None:
    lab.inject("gpu-r12-u11", Faults(lldp_swap=("ens1f0np0", "ens1f1np1")))
    code, data = audit(rack, "gpu-r12-u11")
    assert code == 1
    assert [(f["layer"], f["subject"], f["expected"], f["observed"]) for f in data["findings"]] == [
        ("cabling", "ens1f0np0", "leaf-r12-a Ethernet2/1", "leaf-r12-b Ethernet2/1"),
        ("cabling", "ens1f1np1", "leaf-r12-b Ethernet2/1", "leaf-r12-a Ethernet2/1"),
    ]
    assert "are swapped: swap the two cables" in data["findings"][0]["hint"]


def test_fixed_drift_shows_in_diff_and_history(rack: Cli, lab: HostLab) -> None:
    lab.inject("gpu-r12-u19", Faults(fabricmanager_stopped=True))
    code, before = audit(rack, "gpu-r12-u19")
    lab.heal("gpu-r12-u19")
    code_after, after = audit(rack, "gpu-r12-u19")
    assert (code, code_after) == (1, 0)
    diff = rack("audit", "diff", str(before["run"]), str(after["run"]), "--json").json()
    assert [(c["device"], c["check"], c["subject"]) for c in diff["fixed"]] == [
        ("gpu-r12-u19", "service", "nvidia-fabricmanager.service")
    ]
    history = rack("audit", "history", "gpu-r12-u19", "--json").json()
    (row,) = history["findings"]
    assert (row["first_seen_run"], row["resolved_run"]) == (before["run"], after["run"])


def test_a_host_without_a_pinned_key_is_refused_until_trusted(rack: Cli, db_url: str) -> None:
    db = Database(db_url)
    with db.transaction() as session:
        device = queries.device(session, "gpu-r12-u03")  # held: the session only keeps weak references
        device.host_keys.clear()
    db.dispose()
    code, data = audit(rack, "gpu-r12-u03")
    assert code == 2 and data["findings"] == []
    (reason,) = {r["reason"] for r in data["not_audited"]}
    assert reason.startswith(f"gpu-r12-u03 ({_address(data)}): no SSH host key is pinned in the inventory")
    code, data = audit(rack, "gpu-r12-u03", "--trust-new-keys")
    assert (code, data["not_audited"]) == (0, [])
    (entry,) = [
        e for e in rack("log", "--kind", "operation", "--json").json() if e["command"] == "audit --trust-new-keys"
    ]
    assert [r["target"] for r in entry["results"]] == ["gpu-r12-u03"]


def _address(data: dict[str, Any]) -> str:
    return data["not_audited"][0]["reason"].split("(")[1].split(")")[0]


def test_unreachable_host_is_not_audited_and_keeps_its_findings(rack: Cli, lab: HostLab) -> None:
    # Runs last: it stops one lab host for good.
    lab.inject("gpu-r12-u27", Faults(fabricmanager_stopped=True))
    code, _ = audit(rack, "gpu-r12-u27")
    assert code == 1
    processes.stop([lab.hosts["gpu-r12-u27"].pid])
    code, data = audit(rack, NODES)
    assert code == 2
    assert [(r["device"], r["layer"]) for r in data["not_audited"]] == [
        ("gpu-r12-u27", "host"),
        ("gpu-r12-u27", "cabling"),
    ]
    assert all("refused" in r["reason"].lower() for r in data["not_audited"])
    assert data["summary"]["clean"] == 6
    history = rack("audit", "history", "gpu-r12-u27", "--open", "--json").json()
    assert [(f["check"], f["resolved_run"]) for f in history["findings"]] == [("service", None)]
    table = rack("audit", "@rack:r12&@role:gpu-node", "--layers", "host")
    assert table.exit_code == 2 and "Not audited" in table.stdout and "gpu-r12-u27" in table.stdout
