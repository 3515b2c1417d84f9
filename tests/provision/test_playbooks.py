"""The playbooks pass ansible-lint's production profile and a syntax check; the inventory script prints exactly
`rackctl export ansible-inventory`; every package the roles pin has a stand-in with the same name."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from jinja2 import Environment

from rackctl.lab.provision.standins import definitions
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


def test_every_pinned_package_has_a_stand_in_with_its_name() -> None:
    profile = yaml.safe_load((shipped_dir("rack_templates") / "h100-4node-air.yaml").read_text())["profiles"]
    variables = {"rackctl_profile": profile["h100-inference"]}
    packaging = yaml.safe_load((PLAYBOOKS / "packaging" / "packages.yml").read_text())
    env = Environment()
    env.filters["split"] = lambda value, sep=None: str(value).split(sep)
    variables["nvidia_branch"] = env.from_string(packaging["nvidia_branch"]).render(variables)
    variables["dcgm_cuda_major"] = env.from_string(packaging["dcgm_cuda_major"]).render(variables)
    wanted = [
        *packaging["gpu_driver_packages_debian"],
        packaging["gpu_driver_module_package_debian"],
        *packaging["fabricmanager_packages_debian"],
        *packaging["cuda_packages"],
        *packaging["dcgm_packages"],
        packaging["dcgm_exporter_package"],
        *packaging["container_toolkit_packages"],
        *packaging["doca_ofed_packages"],
    ]
    names = {env.from_string(w).render(variables) for w in wanted}
    assert names <= {d.name for d in definitions()}
    assert "nvidia-fabricmanager-570" in names and "datacenter-gpu-manager-4-cuda12" in names
