"""The roles and the harness's stand-ins agree with NVIDIA's published facts (playbooks/packaging/nvidia-facts.yml,
each fact with its source): a wrong package name, version shape, repository or pairing fails here instead of being
written into a role and its stand-in alike."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar, trust_as_template

from rackctl.lab.provision import standins
from rackctl.lab.provision.machine import KERNEL
from rackctl.paths import shipped_dir

PACKAGING = shipped_dir("playbooks") / "packaging"
FACTS: dict[str, Any] = yaml.safe_load((PACKAGING / "nvidia-facts.yml").read_text())["nvidia_facts"]
PROFILES = {
    name: profile
    for template in sorted(shipped_dir("rack_templates").glob("*.yaml"))
    for name, profile in (yaml.safe_load(template.read_text()).get("profiles") or {}).items()
}
# A profile on the R580 branch, where NVIDIA renamed Fabric Manager and the driver reports CUDA 13.
R580 = {**PROFILES["h100-inference"], "nvidia_driver": "580.82.07", "fabric_manager": "580.82.07", "dcgm": "4.4.1"}


def _trusted(value: Any) -> Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


@cache
def _loader() -> DataLoader:
    init_plugin_loader()
    return DataLoader()


def render(name: str, profile: dict[str, Any], distro: str = "Ubuntu", version: str = "22.04") -> Any:
    """A variable of packages.yml or a role's defaults as Ansible renders it for `profile` on `distro`."""
    variables = {
        **yaml.safe_load((PACKAGING / "packages.yml").read_text()),
        **yaml.safe_load((shipped_dir("playbooks") / "roles/base/defaults/main.yml").read_text()),
        **yaml.safe_load((shipped_dir("playbooks") / "roles/doca_ofed/defaults/main.yml").read_text()),
        **yaml.safe_load((shipped_dir("playbooks") / "roles/container_toolkit/defaults/main.yml").read_text()),
    }
    facts = {
        "ansible_distribution": distro,
        "ansible_distribution_version": version,
        "ansible_os_family": "Debian",
        "ansible_distribution_major_version": version.split(".")[0],
        "rackctl_kernel": KERNEL,
        "rackctl_profile": profile,
        "nvidia_facts": FACTS,
    }
    templar = Templar(loader=_loader(), variables={**_trusted(variables), **facts})
    return templar.template(_trusted(variables[name]))


def _pattern(name: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", name)
    return re.compile("^" + "[a-z0-9.-]+".join(re.escape(p) for p in parts) + "$")


def fact_for(name: str, repo: str | None = None) -> dict[str, Any]:
    """The package fact whose name pattern matches `name` (and whose repository is `repo`; any but RHEL's if None)."""
    found = [
        f
        for f in FACTS["packages"]
        if _pattern(f["name"]).match(name) and (f["repo"] == repo if repo else f["repo"] != "cuda-redhat")
    ]
    assert len(found) == 1, f"{name} ({repo}): {len(found)} facts match; every package needs exactly one"
    return found[0]


def _version_pattern(fact: dict[str, Any], values: dict[str, str]) -> str:
    pattern = fact["version"]
    for key, value in values.items():
        pattern = pattern.replace("{" + key + "}", re.escape(value))
    return pattern


def _standin_values(package: standins.Standin) -> dict[str, str]:
    upstream = package.upstream
    return {
        "driver": package.values.get("driver", upstream),
        "dcgm": upstream,
        "exporter": upstream,
        "toolkit": upstream,
        "release": upstream.split("-")[0],
        "cuda": ".".join(upstream.split(".")[:2]),
    }


def _nvidia_standins() -> list[standins.Standin]:
    """Stand-ins of NVIDIA's packages: not the site's, not Ubuntu's own (marked `fact: false`)."""
    own = [s["name"] for s in standins.load()["packages"] if s.get("fact") is False]
    return [
        p
        for p in standins.definitions()
        if p.repo != "site" and not any(p.name == n.replace("{kernel}", KERNEL) for n in own)
    ]


NVIDIA_STANDINS = _nvidia_standins()


@pytest.mark.parametrize("package", NVIDIA_STANDINS, ids=lambda p: f"{p.repo}:{p.name}={p.version}")
def test_every_standin_matches_a_fact_in_name_repository_and_version_shape(package: standins.Standin) -> None:
    repo = "ubuntu" if package.repo.startswith("ubuntu-") else package.repo
    fact = fact_for(package.name, repo)
    assert re.match(_version_pattern(fact, _standin_values(package)), package.version), (
        f"{package.name} {package.version} is not shaped as NVIDIA publishes: {fact['version']} ({fact['source']})"
    )


def _installed_names(profile: dict[str, Any]) -> list[str]:
    names = [
        *render("gpu_driver_packages_debian", profile),
        render("gpu_driver_module_package_debian", profile),
        render("gpu_driver_dkms_package_debian", profile),
        render("gpu_driver_headers_package_debian", profile),
    ]
    names += render("fabricmanager_packages_debian", profile) + render("dcgm_packages", profile)
    names += [render("dcgm_exporter_package", profile), *render("container_toolkit_packages", profile)]
    names += render("doca_ofed_packages", profile) + render("doca_ofed_tools_packages", profile)
    return names + (render("cuda_packages", profile) if "cuda" in profile else [])


@pytest.mark.parametrize("name", [*PROFILES, "r580"])
def test_every_package_a_role_installs_is_a_published_name(name: str) -> None:
    profile = PROFILES.get(name, R580)
    branch = int(str(profile["nvidia_driver"]).split(".")[0])
    for package in _installed_names(profile):
        fact = fact_for(package)
        assert fact.get("branch_min", 0) <= branch <= fact.get("branch_max", 10**6), f"{package} not for R{branch}"


def test_rhel_names_the_roles_use_are_published() -> None:
    profile = PROFILES["h100-inference"]
    for package in render("gpu_driver_packages_redhat", profile) + render("fabricmanager_packages_redhat", profile):
        assert fact_for(package, "cuda-redhat")
    stream = FACTS["behaviour"]["rhel_driver_stream"]["values"]["stream"].replace("{branch}", "570")
    assert render("gpu_driver_module_stream_redhat", profile) == f"nvidia-driver:{stream}"


def test_dcgm_cuda_plugin_follows_the_driver_not_the_toolkit() -> None:
    without_cuda = {k: v for k, v in PROFILES["h100-inference"].items() if k != "cuda"}
    assert render("dcgm_packages", without_cuda)[1] == "datacenter-gpu-manager-4-cuda12"
    assert render("dcgm_packages", {**R580, "cuda": "12.8"})[1] == "datacenter-gpu-manager-4-cuda13"


def test_repositories_the_roles_configure_are_nvidias() -> None:
    repos = FACTS["repositories"]
    profile = PROFILES["h100-inference"]
    assert render("base_cuda_repo", profile, version="22.04") == repos["cuda_debian"]["uri"].format(
        distro="ubuntu", version_nodot="2204"
    )
    assert render("base_apt_repositories", profile)[0]["key_url"].endswith(repos["cuda_debian"]["key"])
    assert render("base_cuda_repo_redhat", profile, distro="RedHat", version="9.4") == repos["cuda_redhat"][
        "uri"
    ].format(major="9")
    doca = render("doca_ofed_repo", profile, version="24.04")
    assert doca == repos["doca_debian"]["uri"].format(release="3.1.0", distro="ubuntu", version="24.04")
    assert render("doca_ofed_repositories", profile)[0]["key_url"].endswith(repos["doca_debian"]["key"])
    toolkit = render("container_toolkit_repositories", profile)[0]
    assert (toolkit["uri"], toolkit["key_url"]) == (
        repos["libnvidia_container_debian"]["uri"],
        repos["libnvidia_container_debian"]["key_url"],
    )


@pytest.mark.parametrize("name", list(PROFILES))
def test_shipped_profiles_pair_their_pins_as_nvidia_does(name: str) -> None:
    profile, pairings = PROFILES[name], FACTS["pairings"]
    extra = profile.get("extra") or {}
    branch = str(profile["nvidia_driver"]).split(".")[0]
    assert branch in pairings["driver_cuda"]["values"]
    if "fabric_manager" in profile:
        assert profile["fabric_manager"] == profile["nvidia_driver"]
    if "dcgm" in profile:
        assert extra.get("dcgm_exporter") in pairings["dcgm_exporter"]["values"][profile["dcgm"]]
    if "ofed" in profile:
        assert pairings["doca_ofed"]["values"][extra["doca_release"]] == profile["ofed"]


def test_standin_tools_report_what_the_facts_say() -> None:
    smi = (PACKAGING / "standins" / "nvidia-smi").read_text()
    table = dict(re.findall(r'"(\d{3})": "([\d.]+)"', smi))
    assert table == FACTS["pairings"]["driver_cuda"]["values"]
    fabric = FACTS["behaviour"]["fabric_state"]["values"]
    assert f'"{fabric["state"]}"' in (PACKAGING / "standins" / "nv-fabricmanager").read_text().replace("'", '"') or (
        fabric["state"] in (PACKAGING / "standins" / "nv-fabricmanager").read_text()
    )
    assert f'"{fabric["status"]}"' in smi
    drop_in = FACTS["behaviour"]["containerd_drop_in"]["values"]
    defaults = (shipped_dir("playbooks") / "roles/container_toolkit/defaults/main.yml").read_text()
    assert drop_in["drop_in"] in defaults and drop_in["import"] in defaults


def test_every_fact_says_where_it_was_read() -> None:
    entries = [
        *FACTS["repositories"].values(),
        *FACTS["packages"],
        *FACTS["pairings"].values(),
        *FACTS["behaviour"].values(),
    ]
    for entry in entries:
        source = str(entry.get("source", ""))
        assert re.search(r"https?://|[\w-]+/[\w.-]+@[0-9a-f]{40}:|tests/data/", source), entry


def test_the_serving_unit_passes_triton_only_options_triton_has_and_the_standin_knows_exactly_those() -> None:
    facts = FACTS["behaviour"]["triton_options"]["values"]
    unit = (shipped_dir("playbooks") / "roles/serving/templates/rackctl-serving.service.j2").read_text()
    triton_line = next(line for line in unit.splitlines() if "serving_triton_command" in line)
    used = set(re.findall(r" --([a-z-]+)=", triton_line))
    assert {"http-address", "grpc-address", "metrics-address", "grpc-use-ssl-mutual"} <= used <= set(facts["options"])
    standin = (PACKAGING / "standins" / "tritonserver").read_text()
    known = re.search(r"KNOWN = \{(.*?)\}", standin, re.DOTALL)
    assert known is not None and set(re.findall(r'"([a-z-]+)"', known.group(1))) == set(facts["options"])


def test_the_serving_container_names_the_entrypoint_both_image_generations_carry_and_cdi_gpus() -> None:
    entry = FACTS["behaviour"]["vllm_image_entrypoint"]["values"]
    assert all(e.split()[0] in ("python3", entry["command"]) for e in entry["entrypoints"])
    unit = (shipped_dir("playbooks") / "roles/serving/templates/rackctl-serving.service.j2").read_text()
    assert f"--entrypoint {entry['command']} {{{{ serving_image }}}} {{{{ serving_vllm_args }}}}" in unit
    defaults = yaml.safe_load((shipped_dir("playbooks") / "roles/serving/defaults/main.yml").read_text())
    assert defaults["serving_vllm_args"].startswith(entry["subcommand"] + " ")
    assert f"--device {FACTS['behaviour']['cdi_devices']['values']['device_prefix']}{{{{ gpu }}}}" in unit
