"""The playbooks pass ansible-lint's production profile and a syntax check; the inventory script prints exactly
`rackctl export ansible-inventory`; the play's shape (root, batches, one reboot between install and checks)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from rackctl.paths import shipped_dir

PLAYBOOKS = shipped_dir("playbooks")
SCRIPT = shipped_dir("inventory") / "rackctl_inventory.py"


def test_ansible_lint_production_profile_passes() -> None:
    done = subprocess.run(
        ["ansible-lint", "--profile", "production", "--nocolor"], cwd=PLAYBOOKS, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Profile 'production' was required, and it passed" in done.stderr


def test_site_playbook_syntax_check_passes() -> None:
    done = subprocess.run(
        ["ansible-playbook", "--syntax-check", "-i", "localhost,", "site.yml"],
        cwd=PLAYBOOKS,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "playbook: site.yml" in done.stdout


def _script(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RACKCTL_DB_URL": db_url}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env)


def test_inventory_script_prints_exactly_the_export(cli, db_url: str) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    exported = cli("export", "ansible-inventory")
    listed = _script(db_url, "--list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == exported.stdout
    host = json.loads(_script(db_url, "--host", "gpu-r12-u03").stdout)
    assert host == exported.json()["_meta"]["hostvars"]["gpu-r12-u03"]  # type: ignore[index]
    assert host["rackctl_profile"]["fabric_manager"] == host["rackctl_profile"]["nvidia_driver"]


def test_inventory_script_without_an_inventory_fails_in_one_line(tmp_path: Path) -> None:
    done = _script(f"sqlite:///{tmp_path / 'none.db'}", "--list")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("rackctl inventory: no inventory at")
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_play_runs_as_root_in_batches_that_stop_on_a_failure_rate() -> None:
    [play] = yaml.safe_load((PLAYBOOKS / "site.yml").read_text())
    assert play["become"] is True
    assert play["serial"] == "{{ rackctl_batch | default('100%') }}"
    assert play["max_fail_percentage"] == "{{ rackctl_max_fail_percentage | default(100) }}"
    roles = [r["role"] for r in play["roles"]]
    # Everything that needs a reboot is installed before the one reboot decision, everything it proves after.
    assert roles.index("gpu_driver") < roles.index("doca_ofed") < roles.index("reboot") < roles.index("node_verify")


def test_rhel_network_state_renders_the_same_bond_vlans_and_vfs_as_netplan(tmp_path: Path) -> None:
    # No RHEL-family target can be built here (no RPM repository is reachable): render the nmstate document the
    # RHEL path applies, from a real inventory's host variables, and check its structure.
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template

    from rackctl.inventory.export import ansible_inventory
    from rackctl.lab.provision.inventory import make_inventory

    db = make_inventory(tmp_path / "inventory.db")
    try:
        with db.transaction() as session:
            hostvars = ansible_inventory(session, ["gpu-r12-u03"])["_meta"]["hostvars"]["gpu-r12-u03"]
    finally:
        db.dispose()
    role = PLAYBOOKS / "roles" / "host_network"
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    init_plugin_loader()
    variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in defaults.items()}
    variables |= hostvars | {"host_network_sriov": [{"name": "ens1f0np0", "vfs": 8}]}
    templar = Templar(loader=DataLoader(), variables=variables)
    state = yaml.safe_load(templar.template(trust_as_template((role / "templates" / "nmstate.yml.j2").read_text())))
    by_name = {i["name"]: i for i in state["interfaces"]}
    assert by_name["bond0"]["link-aggregation"]["mode"] == "802.3ad"
    assert by_name["bond0"]["link-aggregation"]["port"] == ["ens1f0np0", "ens1f1np1"]
    assert by_name["bond0"]["link-aggregation"]["options"]["lacp_rate"] == "fast"
    assert by_name["ens1f0np0"]["ethernet"]["sr-iov"]["total-vfs"] == 8
    assert {by_name[f"bond0.{vlan}"]["vlan"]["id"] for vlan in (10, 100, 200)} == {10, 100, 200}
    assert all(i["mtu"] == 9000 for i in state["interfaces"])
