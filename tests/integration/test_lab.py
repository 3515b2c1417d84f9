"""`rackctl lab`: simulators from the inventory, and nothing left behind after `down`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from rackctl.inventory.db import Database
from rackctl.inventory.queries import device
from rackctl.lab import netns, processes
from rackctl.lab import state as lab_state
from tests.conftest import CliResult


def _leftovers(lab: lab_state.LabState) -> list[str]:
    found = [f"process {pid}" for pid in lab.all_pids() if processes.alive(pid)]
    found += [f"namespace {ns}" for ns in netns.namespaces(lab.prefix)]
    found += [f"link {link}" for link in netns.links(lab.prefix)]
    return found


def test_up_points_the_inventory_at_simulators_and_down_restores_it(
    cli: Callable[..., CliResult], db: Database, tmp_path: Path
) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    before = json.loads(cli("device", "show", "gpu-r12-u03", "--json").stdout)
    up = cli("lab", "up", "--json")
    assert up.exit_code == 0, up.stderr
    summary = json.loads(up.stdout)
    assert summary["bmcs"] == 4 and summary["hosts"] == 4
    folder = lab_state.lab_folder(tmp_path / "state", "default")
    lab = lab_state.load(folder)
    assert lab is not None
    during = json.loads(cli("device", "show", "gpu-r12-u03", "--json").stdout)
    assert during["mgmt"]["address"].startswith("127.2.")
    assert during["mgmt"]["credential"].startswith("file:")
    secret = Path(during["mgmt"]["credential"].removeprefix("file:")).read_text().strip()
    assert secret not in json.dumps(during)
    bond = next(i for i in during["interfaces"] if i["name"] == "bond0")
    assert bond["addresses"][0].startswith("10.250.")

    status = cli("lab", "status", "--json")
    assert status.exit_code == 0
    assert all(row["running"] for row in json.loads(status.stdout)["endpoints"])

    down = cli("lab", "down")
    assert down.exit_code == 0, down.stderr
    assert _leftovers(lab) == []
    assert not folder.exists()
    after = json.loads(cli("device", "show", "gpu-r12-u03", "--json").stdout)
    assert after["mgmt"] == before["mgmt"]
    assert after["interfaces"] == before["interfaces"]


def test_a_failed_up_leaves_nothing_behind(
    cli: Callable[..., CliResult], db: Database, tmp_path: Path, monkeypatch: object, secret_dir: Path
) -> None:
    # IPMI and Redfish BMCs and PDUs start; the SSH hosts then fail (no mkdir on PATH for sshd's /run/sshd).
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("rack", "create", "r20", "-t", "l40s-8node", "-s", "fra1").exit_code == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ipmi_sim", "ip", "ssh-keygen", "unshare", "sh", "mount", "hostname"):
        path = subprocess.run(["which", tool], capture_output=True, text=True, check=True).stdout.strip()
        (bin_dir / tool).symlink_to(path)
    with db.transaction() as session:
        original = device(session, "gpu-r12-u03").mgmt.address  # type: ignore[union-attr]
    secrets_before = set(secret_dir.iterdir())
    monkeypatch.setenv("PATH", str(bin_dir))  # type: ignore[attr-defined]
    result = cli("lab", "up")
    assert result.exit_code == 2
    assert "did not start" in result.stderr
    assert _pids_mentioning(tmp_path) == []  # simulators, sshd: each names a file in this test's folder
    assert not lab_state.lab_folder(tmp_path / "state", "default").exists()
    assert set(secret_dir.iterdir()) == secrets_before  # the lab's secrets went with it
    with db.transaction() as session:
        assert device(session, "gpu-r12-u03").mgmt.address == original  # type: ignore[union-attr]


def _pids_mentioning(folder: Path) -> list[int]:
    # Only this test's processes: other labs on a shared machine run ipmi_sim and sshd too.
    found = subprocess.run(["/usr/bin/pgrep", "-f", str(folder)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def test_a_second_up_is_refused(cli: Callable[..., CliResult]) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    assert cli("lab", "up", "--no-hosts").exit_code == 0
    try:
        again = cli("lab", "up", "--no-hosts")
        assert again.exit_code == 2
        assert "already up" in again.stderr
    finally:
        assert cli("lab", "down").exit_code == 0


def test_down_without_a_lab_says_so(cli: Callable[..., CliResult]) -> None:
    result = cli("lab", "down")
    assert result.exit_code == 2
    assert "no lab named 'default'" in result.stderr


def test_hosts_answer_ssh_with_the_lab_key(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    up = json.loads(cli("lab", "up", "--json").stdout)
    try:
        address = json.loads(cli("device", "show", "gpu-r12-u11", "--json").stdout)["interfaces"]
        host = next(i for i in address if i["name"] == "bond0")["addresses"][0].split("/")[0]
        done = subprocess.run(
            [
                "ssh",
                "-i",
                up["ssh_key"],
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                f"root@{host}",
                "hostname",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert done.stdout.strip() == "gpu-r12-u11", done.stderr
    finally:
        cli("lab", "down")


def test_runs_as_root_for_namespaces() -> None:
    # The suite exercises network-namespace hosts; CI runs as root (see scripts/test).
    assert os.geteuid() == 0


def test_console_needs_an_ipmi_bmc(cli: Callable[..., CliResult]) -> None:
    assert cli("rack", "create", "r20", "-t", "l40s-8node", "-s", "fra1").exit_code == 0
    assert cli("lab", "up", "--no-hosts").exit_code == 0
    try:
        result = cli("console", "gpu-r20-u03")
        assert result.exit_code == 2
        assert "serial over LAN needs an IPMI BMC; this one speaks redfish" in result.stderr
    finally:
        cli("lab", "down")


def test_console_of_a_node_whose_credential_is_unset_says_which(cli: Callable[..., CliResult]) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    result = cli("console", "gpu-r12-u03")
    assert result.exit_code == 2
    assert "RACKCTL_BMC_PASSWORD is not set" in result.stderr
