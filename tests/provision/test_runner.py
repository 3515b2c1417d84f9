"""How rackctl runs Ansible: secrets out of argv, environment and artifacts; host keys checked; one private folder per
run; a timeout or a cancel leaves honest states; batches stop on a failure rate; in-service nodes and large runs
are confirmed (issue 12 §2-§4, issue 14 "Results Ansible cannot misreport")."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest
import yaml

from rackctl.errors import PlaybookError
from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.services import hostkeys, leases, oplog
from rackctl.services.provision import Cancel, RunSpec, run_playbook
from rackctl.types import NodeState
from tests.provision.harness import Lab, copy_inventory, node_state, run, set_profile, set_state, spec

NODE = "gpu-r12-u03"
SECRET = "s3cret-bmc-pw"
# A play that runs on the control host (connection local) and only reads: what ansible-playbook was given.
PROBE = """
- hosts: all
  gather_facts: false
  tasks:
    - name: Read the environment ansible-playbook passed on
      ansible.builtin.command: env
      register: probe_env
      changed_when: false
    - name: Read the command lines of the running ansible-playbook processes
      ansible.builtin.shell: ps -eo args | grep [a]nsible-playbook
      register: probe_argv
      changed_when: false
    - name: Read the mode of the run's variables file
      ansible.builtin.shell: stat -c %a "$AWX_ISOLATED_DATA_DIR/../../env/extravars"
      register: probe_mode
      changed_when: false
    - name: Hand them back
      ansible.builtin.set_fact:
        rackctl_burnin_probe: "{{ {'env': probe_env.stdout, 'argv': probe_argv.stdout, 'mode': probe_mode.stdout} }}"
"""


@pytest.fixture
def probe(inventory: Database, tmp_path: Path) -> tuple[RunSpec, Path]:
    playbook = tmp_path / "probe.yml"
    playbook.write_text(PROBE)
    override = tmp_path / "local.yml"
    override.write_text(
        yaml.safe_dump(
            {"all": {"hosts": {NODE: {"ansible_connection": "local", "ansible_python_interpreter": "python3"}}}}
        )
    )
    run_spec = spec(
        inventory,
        (NODE,),
        override,
        tmp_path / "ansible",
        playbook=str(playbook),
        extra_vars={"marker_var": "MARKER-not-on-argv"},
    )
    return run_spec, tmp_path / "ansible"


def test_secrets_stay_out_of_argv_environment_and_artifacts(
    probe: tuple[RunSpec, Path], inventory: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_spec, state_dir = probe
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", SECRET)
    monkeypatch.setenv("RACKCTL_DB_URL", f"postgresql+psycopg://rackctl:{SECRET}@db.example/rackctl")
    monkeypatch.setenv("RACKCTL_HF_TOKEN", "hf_token_value")
    set_profile(inventory, NODE, extra={"serving": {"token": "env:RACKCTL_HF_TOKEN"}})
    [outcome] = run_playbook(run_spec).values()
    assert outcome.ok, outcome.message
    seen = outcome.facts["rackctl_burnin_probe"]
    assert "RACKCTL_" not in seen["env"] and SECRET not in seen["env"] and "hf_token_value" not in seen["env"]
    assert "MARKER-not-on-argv" not in seen["argv"] and SECRET not in seen["argv"]
    assert "-e @" in seen["argv"]
    assert seen["mode"] == "600"
    [folder] = (state_dir / "runs").iterdir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    leftovers = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    assert not [p for p in leftovers if p.endswith(("/command", "extravars", "hosts.json"))]
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert SECRET not in text and "hf_token_value" not in text, path


def test_each_run_gets_its_own_folder_and_concurrent_runs_keep_their_events(probe: tuple[RunSpec, Path]) -> None:
    run_spec, state_dir = probe
    results: list[dict[str, object]] = []
    threads = [threading.Thread(target=lambda: results.append(run_playbook(run_spec))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert len(results) == 2 and all(r[NODE].ok for r in results)  # type: ignore[attr-defined]
    folders = sorted((state_dir / "runs").iterdir())
    assert len(folders) == 2
    for folder in folders:
        [artifacts] = (folder / "artifacts").iterdir()
        events = [json.loads(p.read_text())["event"] for p in (artifacts / "job_events").iterdir()]
        assert "playbook_on_stats" in events


def test_an_expired_run_marks_its_nodes_interrupted_not_provisioned(
    inventory: Database, lab: Lab, tmp_path: Path
) -> None:
    lab.target(NODE)
    [outcome] = run(inventory, (NODE,), lab.override(), tmp_path / "ansible", timeout_s=1)
    assert (outcome.ok, outcome.interrupted) == (False, True)
    assert outcome.message.startswith("run timed out after 1s")
    state, reason = node_state(inventory, NODE)
    assert state == NodeState.FAILED and reason.startswith("provision interrupted: run timed out after 1s")
    with inventory.transaction() as session:
        [entry] = oplog.recent(session, 1)
        assert entry.results[0].detail["interrupted"] is True


def test_a_cancelled_run_is_recorded_as_interrupted(probe: tuple[RunSpec, Path]) -> None:
    run_spec, _ = probe
    cancel = Cancel()
    cancel.event.set()
    [outcome] = run_playbook(run_spec, cancel=cancel).values()
    assert (outcome.ok, outcome.interrupted) == (False, True)
    assert outcome.message.startswith("run canceled")


def test_batches_stop_once_a_batch_fails_too_often(inventory: Database, lab: Lab, tmp_path: Path) -> None:
    db = copy_inventory(inventory, tmp_path)
    try:
        for node in ("gpu-r12-u03", "gpu-r12-u11"):
            lab.target(node)
        set_profile(db, "gpu-r12-u03", fabric_manager="570.148.08")
        set_state(db, "gpu-r12-u11", NodeState.POWERED)
        first, second = run(
            db,
            ("gpu-r12-u03", "gpu-r12-u11"),
            lab.override(),
            tmp_path / "ansible",
            batch="1",
            max_fail_percentage=0,
            tags=("preflight",),
        )
        assert first.failed_task == "preflight : Check Fabric Manager is pinned to the driver's exact version"
        assert (second.ok, second.reached) == (False, False)
        assert second.message.startswith("not reached: the run stopped before this host's batch")
        assert node_state(db, "gpu-r12-u11")[0] == NodeState.POWERED
    finally:
        db.dispose()


def test_ssh_host_keys_come_from_the_inventory_pins_under_the_node_s_name(
    inventory: Database, sshd: int, sshd_host_key: Path, tmp_path: Path
) -> None:
    """The override reaches the node at another address and port than the inventory's: the pin still applies."""
    override = tmp_path / "ssh.yml"
    override.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        NODE: {
                            "ansible_host": "127.0.0.1",
                            "ansible_port": sshd,
                            "ansible_user": "nobody-rackctl",
                            "ansible_ssh_private_key_file": str(tmp_path / "absent-key"),
                            "ansible_ssh_timeout": 60,  # a loaded CI machine: ssh's connect, not the key check
                        }
                    }
                }
            }
        )
    )
    before = node_state(inventory, NODE)
    [refused] = run(inventory, (NODE,), override, tmp_path / "a")
    assert refused.unreachable and not refused.reached
    assert refused.message == (
        f"{NODE}: no SSH host key is pinned in the inventory; nothing was sent to it "
        f"(to trust it: rackctl trust {NODE}, or provision --trust-new-keys)"
    )
    assert node_state(inventory, NODE) == before  # the play never ran: the node's state is not the run's to move
    kind, key = sshd_host_key.read_text().split()[:2]
    with inventory.transaction() as session:
        hostkeys.pin_known(session, "tester", [queries.device(session, NODE)], kind, key, "test")
    [known] = run(inventory, (NODE,), override, tmp_path / "b")
    assert known.unreachable and "Host key verification failed" not in known.message
    assert "Permission denied" in known.message


def test_a_missing_inventory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read the inventory for the run"):
        run_playbook(RunSpec(hosts=(NODE,), db_url=f"sqlite:///{tmp_path / 'none.db'}", state_dir=tmp_path))


def test_a_node_another_run_holds_is_left_out_of_the_play_and_the_others_run(
    inventory: Database, tmp_path: Path
) -> None:
    other = "gpu-r12-u11"
    playbook = tmp_path / "mark.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.command: touch {tmp_path}/ran-{{{{ inventory_hostname }}}}\n"
    )
    override = tmp_path / "local.yml"
    local = {"ansible_connection": "local", "ansible_python_interpreter": "python3"}
    override.write_text(yaml.safe_dump({"all": {"hosts": {NODE: local, other: local}}}))
    before = node_state(inventory, NODE)
    lease = leases.acquire(inventory, [NODE], "cycled", "alice")
    try:
        held, free = run(inventory, (NODE, other), override, tmp_path / "ansible", playbook=str(playbook))
    finally:
        lease.release()
    assert (held.ok, held.reached) == (False, False)
    assert held.message.startswith(f"{NODE} is being cycled by alice since ")
    assert free.ok, free.message
    assert not (tmp_path / f"ran-{NODE}").exists() and (tmp_path / f"ran-{other}").exists()
    assert node_state(inventory, NODE) == before  # never touched: its state is not this run's to move
    with inventory.transaction() as session:
        [entry] = oplog.recent(session, 1)
        assert entry.targets == [NODE, other]  # the intent: written before the play, naming both
        assert {r.target: r.ok for r in entry.results} == {NODE: False, other: True}
        assert entry.end is not None and entry.end.ok is False
