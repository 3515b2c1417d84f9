"""SSH peers prove who they are: real sshd in network namespaces (the lab's hosts), keys pinned in the inventory.

The spoof: the inventory pins the real host's key while the address answers with another key (the lab host
presents its own; the pin is a key made here), as when a machine takes over a node's address. Fingerprints
are checked against OpenSSH's own tools (`ssh-keygen -lf`, `ssh-keyscan`, `ssh` with the file rackctl writes).
Needs root (network namespaces), as CI runs.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.templates.build import create_racks
from rackctl.inventory.templates.loader import load_template
from rackctl.lab import hostlab
from rackctl.lab.hostlab import HostLab
from rackctl.services import hostkeys
from rackctl.services.provision import HostOutcome, RunSpec, provision

Cli = Callable[..., Any]
NODE = "gpu-r12-u03"
PREFIX = "rkhk"


def ssh_keygen_fingerprint(public_key: Path) -> str:
    """`ssh-ed25519 SHA256:...` as OpenSSH prints it."""
    bits_fp_comment_type = subprocess.run(
        ["ssh-keygen", "-lf", str(public_key)], capture_output=True, text=True, check=True
    ).stdout.split()
    return f"ssh-ed25519 {bits_fp_comment_type[1]}"


@pytest.fixture(scope="module")
def lab(_template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostLab]:
    folder = tmp_path_factory.mktemp("hostkeys")
    shutil.copy(_template_db, folder / "plan.db")
    db = Database(f"sqlite:///{folder / 'plan.db'}")
    with db.transaction() as session:
        create_racks(session, load_template("h100-4node-air"), "r12", "fra1", "tester")
    with db.transaction() as session:
        plans = hostlab.plans_from_inventory(session, [NODE])
    db.dispose()
    started = hostlab.start(PREFIX, folder, plans)
    yield started
    started.stop()
    assert not hostlab.netns.namespaces(PREFIX) and not hostlab.netns.links(PREFIX)


@pytest.fixture(scope="module")
def impostor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The key the inventory pins in the spoof cases (the real node's, say); the address presents another."""
    key = tmp_path_factory.mktemp("impostor") / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key.with_suffix(".pub")


@pytest.fixture
def rack(cli: Cli, db: Database, lab: HostLab, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """This test's inventory: rack r12 with its first node on the lab host, the lab's key pinned."""
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    with db.transaction() as session:
        hostlab.point_inventory(session, lab)
    monkeypatch.setenv("RACKCTL_SSH_KEY", str(lab.keys.client))
    return cli


def pin(db: Database, public_key: Path | None) -> None:
    """Pin `public_key` for the node (None: nothing pinned)."""
    with db.transaction() as session:
        device = queries.device(session, NODE)
        device.host_keys.clear()
        session.flush()
        if public_key is not None:
            kind, blob = public_key.read_text().split()[:2]
            hostkeys.pin_known(session, "tester", [device], kind, blob, "test")


def test_the_audit_refuses_a_host_presenting_another_key(rack: Cli, db: Database, lab: HostLab, impostor: Path) -> None:
    pin(db, impostor)
    result = rack("audit", NODE, "--layers", "host", "--format", "json")
    assert result.exit_code == 2
    (reason,) = [r["reason"] for r in result.json()["not_audited"]]
    assert "SSH HOST KEY CHANGED" in reason and "nothing was sent to it" in reason
    assert f"pins {ssh_keygen_fingerprint(impostor)}" in reason
    assert f"presented {ssh_keygen_fingerprint(lab.keys.host.with_suffix('.pub'))}" in reason


def test_cabling_check_refuses_it_too(rack: Cli, db: Database, impostor: Path) -> None:
    pin(db, impostor)
    result = rack("cabling", "check", NODE, "--json")
    assert result.exit_code == 1
    (failure,) = result.json()["unreachable"]
    assert failure["device"] == NODE and "SSH HOST KEY CHANGED" in failure["error"]


def test_nothing_pinned_means_nothing_is_trusted(rack: Cli, db: Database, lab: HostLab) -> None:
    pin(db, None)
    result = rack("audit", NODE, "--layers", "host", "--format", "json")
    (reason,) = [r["reason"] for r in result.json()["not_audited"]]
    presented = ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub"))
    assert f"no SSH host key is pinned in the inventory; it presented {presented}" in reason
    result = rack("cabling", "check", NODE, "--json")
    assert "no SSH host key is pinned" in result.json()["unreachable"][0]["error"]


def test_trust_shows_openssh_s_fingerprint_asks_and_logs(rack: Cli, db: Database, lab: HostLab) -> None:
    pin(db, None)
    presented = ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub")).split()[1]
    unconfirmed = rack("trust", NODE)  # nobody at a terminal to answer: nothing is pinned
    assert unconfirmed.exit_code == 2 and "pass --yes" in unconfirmed.stderr
    assert rack("trust", NODE, "--list", "--json").json()[0]["pinned"] == []
    result = rack("trust", NODE, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = result.json()["keys"]
    assert (row["verdict"], row["fingerprint"]) == ("new", presented)
    (entry,) = [e for e in rack("log", "--kind", "operation", "--json").json() if e["command"] == f"trust {NODE}"]
    assert entry["results"][0]["message"] == f"trusted {presented}" and entry["actor"] == "tester"
    again = rack("trust", NODE, "--yes", "--json")
    assert again.exit_code == 0 and again.json()["keys"][0]["verdict"] == "same"
    assert rack("audit", NODE, "--layers", "host").exit_code in (0, 1)  # audited now: clean or drift


def test_trust_refuses_a_changed_key_loudly_until_replaced(
    rack: Cli, db: Database, lab: HostLab, impostor: Path
) -> None:
    pin(db, impostor)
    pinned, presented = ssh_keygen_fingerprint(impostor), ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub"))
    result = rack("trust", NODE, "--yes")
    assert result.exit_code == 1
    assert f"SSH HOST KEY CHANGED: pinned {pinned}, presented {presented}" in " ".join(result.stderr.split())
    assert rack("trust", NODE, "--list", "--json").json()[0]["pinned"] == [pinned]
    assert rack("audit", NODE, "--layers", "host", "--trust-new-keys").exit_code == 2  # never overrides a pin
    replaced = rack("trust", NODE, "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.stderr
    assert rack("trust", NODE, "--list", "--json").json()[0]["pinned"] == [presented]
    (entry,) = [
        e for e in rack("log", "--kind", "operation", "--json").json() if e["command"] == f"trust {NODE} --replace"
    ]
    assert entry["results"][0]["message"] == f"replaced {presented.split()[1]}"


def test_trust_takes_keys_from_a_known_hosts_file(rack: Cli, db: Database, lab: HostLab, tmp_path: Path) -> None:
    pin(db, None)
    scanned = subprocess.run(
        ["ssh-keyscan", "-t", "ed25519", lab.address(NODE)], capture_output=True, text=True, check=True
    ).stdout
    known = tmp_path / "known_hosts"
    known.write_text(scanned)
    result = rack("trust", NODE, "--known-hosts", str(known), "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    assert (
        result.json()["keys"][0]["fingerprint"] == ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub")).split()[1]
    )


def _openssh(lab: HostLab, known_hosts: Path) -> subprocess.CompletedProcess[str]:
    options = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    options += ["-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20", "-i", str(lab.keys.client)]
    command = ["ssh", *options, f"root@{lab.address(NODE)}", "true"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_known_hosts_written_for_ansible_is_what_openssh_enforces(
    rack: Cli, db: Database, lab: HostLab, impostor: Path, tmp_path: Path
) -> None:
    path = tmp_path / "known_hosts"
    with db.transaction() as session:
        assert hostkeys.write_known_hosts(session, [NODE], path) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _openssh(lab, path).returncode == 0
    pin(db, impostor)
    with db.transaction() as session:
        hostkeys.write_known_hosts(session, [NODE], path)
    refused = _openssh(lab, path)
    assert refused.returncode == 255 and "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused.stderr
    pin(db, None)
    with db.transaction() as session:
        assert hostkeys.write_known_hosts(session, [NODE], path) == 0
    assert "Host key verification failed" in _openssh(lab, path).stderr


# A play that only proves it ran: it leaves a file (the lab host shares this machine's file system).
MARKER_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Leave a mark
      ansible.builtin.raw: touch {marker}
"""


def _provision(db: Database, lab: HostLab, tmp_path: Path, run: str) -> tuple[HostOutcome, Path]:
    """Provision the lab node over real SSH (Ansible's ssh connection) with a play that leaves a mark."""
    marker = tmp_path / f"ran-{run}"
    play = tmp_path / f"play-{run}.yml"
    play.write_text(MARKER_PLAY.format(marker=marker))
    override = tmp_path / "ssh.yml"
    # A long connect timeout: on a loaded CI machine ssh's connect must not be what fails, only the key check.
    connection = {"ansible_user": "root", "ansible_ssh_private_key_file": str(lab.keys.client)}
    connection["ansible_ssh_timeout"] = 60
    override.write_text(yaml.safe_dump({"all": {"vars": connection}}))
    spec = RunSpec((NODE,), db.url, tmp_path / "ansible", playbook=str(play), overrides=(override,))
    [outcome] = provision(db, spec, "tester")
    return outcome, marker


def test_provision_refuses_a_host_presenting_another_key_before_the_play(
    rack: Cli, db: Database, lab: HostLab, impostor: Path, tmp_path: Path
) -> None:
    pin(db, lab.keys.host.with_suffix(".pub"))
    known, marker = _provision(db, lab, tmp_path, "pinned")
    assert known.ok, known.message
    assert marker.exists()
    # The run above left ssh's master connection open for 60 s; the changed pin must not ride on it.
    pin(db, impostor)
    with db.transaction() as session:
        before = queries.device(session, NODE).state
    refused, marker = _provision(db, lab, tmp_path, "impostor")
    pinned, presented = ssh_keygen_fingerprint(impostor), ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub"))
    assert (refused.ok, refused.unreachable, refused.reached) == (False, True, False)
    assert refused.message == (
        f"{NODE}: SSH HOST KEY CHANGED: the inventory pins {pinned}, the host presented {presented.split()[1]}. "
        f"Someone may be impersonating it; nothing was sent to it (if it was reinstalled: rackctl trust {NODE} "
        "--replace)"
    )
    assert not marker.exists()
    with db.transaction() as session:
        assert queries.device(session, NODE).state == before


def test_provision_trust_new_keys_pins_first_contact_and_is_logged(
    rack: Cli, db: Database, lab: HostLab, tmp_path: Path
) -> None:
    pin(db, None)
    refused, marker = _provision(db, lab, tmp_path, "unpinned")
    assert refused.reached is False and "no SSH host key is pinned in the inventory" in refused.message
    assert f"rackctl trust {NODE}" in refused.message and not marker.exists()
    override = tmp_path / "ssh.yml"
    args = ("--trust-new-keys", "--check", "--tags", "none-such", "-i", str(override), "--json")
    result = rack("provision", NODE, *args)
    (outcome,) = result.json()
    # Pinned, then connected: the play ran (whether the lab host's facts satisfy site.yml is not this test's).
    assert outcome["reached"] and "SSH host key" not in outcome["message"], outcome
    presented = ssh_keygen_fingerprint(lab.keys.host.with_suffix(".pub"))
    assert f"trusted the SSH host key of {NODE}" in result.stderr
    assert rack("trust", NODE, "--list", "--json").json()[0]["pinned"] == [presented]
    log = rack("log", "--kind", "operation", "--json").json()
    assert [e["results"][0]["message"] for e in log if e["command"] == "provision --trust-new-keys"] == [
        f"trusted {presented.split()[1]}"
    ]
