"""The serving role's unit and environment file as Ansible's template module writes them, from a real inventory's
host variables: vLLM from an image pinned by digest, Triton with mutual TLS on gRPC; and the role's own refusal of
an image that is not pinned (an inventory file written by hand never met rackctl's rule)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rackctl.inventory.db import Database
from rackctl.inventory.export import ansible_inventory
from rackctl.paths import shipped_dir
from tests.provision.harness import set_profile

ROLE = shipped_dir("playbooks") / "roles" / "serving"
IMAGE = "registry.example.net:5000/vllm/vllm-openai@sha256:" + "0123456789abcdef" * 4
TLS = {"cert": "/etc/pki/triton/server.crt", "key": "/etc/pki/triton/server.key", "ca": "/etc/pki/triton/ca.crt"}
CONTAINER, TRITON, HOSTILE = "gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19"
TOKEN = "hf_rendertest_0123456789"


@dataclass
class Rendered:
    units: dict[str, str]
    envs: dict[str, Path]
    failures: dict[str, str]


def _play(out: Path) -> list[dict[str, Any]]:
    written = [
        {
            "ansible.builtin.template": {
                "src": str(ROLE / "templates" / src),
                "dest": f"{out}/{{{{ inventory_hostname }}}}.{ext}",
                "mode": mode,
            }
        }
        for src, ext, mode in (("rackctl-serving.service.j2", "service", "0644"), ("serving.env.j2", "env", "0600"))
    ]
    refused = {
        "ansible.builtin.include_tasks": str(ROLE / "tasks" / "container.yml"),
        "when": f"inventory_hostname == '{HOSTILE}'",
    }
    tasks = [{**task, "when": f"inventory_hostname != '{HOSTILE}'"} for task in written] + [refused]
    return [
        {"hosts": "all", "gather_facts": False, "vars_files": [str(ROLE / "defaults" / "main.yml")], "tasks": tasks}
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, inventory_template: Path) -> Iterator[Rendered]:
    root = tmp_path_factory.mktemp("serving-render")
    (root / "inventory.db").write_bytes(inventory_template.read_bytes())
    db = Database(f"sqlite:///{root / 'inventory.db'}")
    try:
        set_profile(db, CONTAINER, extra={"serving": {"image": IMAGE, "host": "10.100.0.3", "token": "env:RACKCTL_T"}})
        set_profile(
            db,
            TRITON,
            serving_runtime="triton",
            extra={"serving": {"model_path": "/srv/triton", "host": "10.100.0.11", "grpc_tls": TLS}},
        )
        with db.transaction() as session:
            hostvars = ansible_inventory(session, [CONTAINER, TRITON, HOSTILE])["_meta"]["hostvars"]
    finally:
        db.dispose()
    hostvars[HOSTILE]["rackctl_profile"]["extra"]["serving"] = {"image": "vllm/vllm-openai:latest --privileged"}
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    secrets = {CONTAINER: {"serving_token": TOKEN}}
    hosts = {h: {**v, **local, "rackctl_secrets": secrets.get(h, {})} for h, v in hostvars.items()}
    (root / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (root / "play.yml").write_text(yaml.safe_dump(_play(root)))
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        ["ansible-playbook", "-i", str(root / "hosts.yml"), str(root / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
    )
    report = json.loads(done.stdout)
    failures = {
        host: result.get("msg", "")
        for play in report["plays"]
        for task in play["tasks"]
        for host, result in task["hosts"].items()
        if result.get("failed")
    }
    units = {h: (root / f"{h}.service").read_text() for h in (CONTAINER, TRITON)}
    yield Rendered(units, {h: root / f"{h}.env" for h in (CONTAINER, TRITON)}, failures)


def _exec_start(unit: str) -> list[str]:
    [line] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=").split(" ")


def test_vllm_runs_the_image_pinned_by_digest_with_cdi_gpus_and_never_pulls_on_restart(rendered: Rendered) -> None:
    argv = _exec_start(rendered.units[CONTAINER])
    assert argv[:3] == ["/usr/bin/podman", "run", "--rm"]
    assert argv[argv.index("--pull") + 1] == "never"
    assert argv[argv.index("--entrypoint") + 1 :][:3] == ["vllm", IMAGE, "serve"]
    # tensor parallel 8 on the profile's eight GPUs, each a CDI device of the container toolkit's spec
    assert [a for a in argv if a.startswith("nvidia.com/gpu=")] == [f"nvidia.com/gpu={i}" for i in range(8)]
    assert argv[argv.index("--host") + 1] == "10.100.0.3" and "--tensor-parallel-size" in argv
    assert argv[argv.index("--env-file") + 1] == "/etc/rackctl/serving.env"
    assert "ExecStop=/usr/bin/podman stop --time 30 rackctl-serving" in rendered.units[CONTAINER]


def test_the_token_reaches_only_the_owner_only_environment_file(rendered: Rendered) -> None:
    env = rendered.envs[CONTAINER]
    assert f"HF_TOKEN={TOKEN}" in env.read_text().splitlines()
    assert env.stat().st_mode & 0o777 == 0o600
    assert TOKEN not in rendered.units[CONTAINER]


def test_triton_serves_grpc_with_mutual_tls_and_keeps_http_and_metrics_on_loopback(rendered: Rendered) -> None:
    argv = _exec_start(rendered.units[TRITON])
    options = dict(a.removeprefix("--").split("=", 1) for a in argv[1:])
    assert options["grpc-address"] == "10.100.0.11" and options["grpc-use-ssl-mutual"] == "true"
    assert (options["grpc-server-cert"], options["grpc-server-key"], options["grpc-root-cert"]) == (
        TLS["cert"],
        TLS["key"],
        TLS["ca"],
    )
    # Triton's HTTP endpoint has neither TLS nor client authentication: it never leaves the node here.
    assert options["http-address"] == options["metrics-address"] == "127.0.0.1"
    assert options["model-control-mode"] == "none"
    assert "0.0.0.0" not in rendered.units[TRITON]


def test_the_role_refuses_an_image_that_is_not_pinned(rendered: Rendered) -> None:
    assert set(rendered.failures) == {HOSTILE}
    message = rendered.failures[HOSTILE]
    assert message.startswith('extra.serving.image "vllm/vllm-openai:latest --privileged" refused')
    assert "pinned by digest" in message
