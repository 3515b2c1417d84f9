"""The rule for a profile's `extra.serving` values: image references judged as distribution/reference judges them
(its own test table, tests/data/oci), narrowed to digests; hostile values refused wherever they would be written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rackctl.errors import Location, ValidationError
from rackctl.inventory.serving import check_image, check_serving

CASES = json.loads((Path(__file__).parents[1] / "data" / "oci" / "reference-cases.json").read_text())
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("image", CASES["parsed"])
def test_images_the_reference_parser_accepts_with_a_digest_are_accepted(image: str) -> None:
    assert check_image(image, "extra.serving.image") == image


@pytest.mark.parametrize("image", CASES["refused"] + CASES["parsed_without_digest"])
def test_images_the_reference_parser_refuses_or_that_carry_no_digest_are_refused(image: str) -> None:
    with pytest.raises(ValidationError, match="not an image pinned by digest"):
        check_image(image, "extra.serving.image")


HOSTILE_IMAGES = [
    f"vllm/vllm-openai@{DIGEST} --privileged",
    f"vllm/vllm-openai@{DIGEST}\nExecStartPre=/bin/sh",
    f"vllm/$(reboot)@{DIGEST}",
    f"vllm/`id`@{DIGEST}",
    f"vllm/vllm-openai@{DIGEST};id",
    f"../vllm@{DIGEST}",
    f"vllm/vllm-openai@{DIGEST.upper()}",
    f"vllm/vllm-openai@sha512:{'f' * 128}",
    f"vllm/vllm-\u043epenai@{DIGEST}",  # Cyrillic o
    f"{'a/' * 128}a@{DIGEST}",  # a name over 255 characters
    f"--entrypoint=sh@{DIGEST}",
    ["vllm/vllm-openai", DIGEST],
]


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=range(len(HOSTILE_IMAGES)))
def test_hostile_images_are_refused(image: object) -> None:
    with pytest.raises(ValidationError, match=r"extra\.serving\.image .* refused"):
        check_image(image, "extra.serving.image")


HOSTILE_SECTIONS = [
    ({"host": "0.0.0.0 --api-key x"}, "extra.serving.host"),
    ({"host": ""}, "extra.serving.host"),
    ({"model_path": "models/llama"}, "not an absolute path"),
    ({"model_path": "/srv/../etc"}, "'..' is not allowed"),
    ({"model_path": "/srv/models/llama 70b"}, "character ' '"),
    ({"model_path": "/srv/$(id)"}, "character '$'"),
    ({"model_mirror": "ftp://mirror.example"}, "not an http(s) URL"),
    ({"model_mirror": "https://mirror.example/x?token=secret"}, "not an http(s) URL"),
    ({"model_mirror": "https://mirror.example\nHF_TOKEN=x"}, "extra.serving.model_mirror"),
    ({"token": "hf_abcdef"}, "is not a secret reference"),
    ({"api_key": "env:HOME"}, "only environment variables named RACKCTL_"),
    ({"grpc_tls": {"cert": "/etc/pki/t.crt"}}, "needs exactly cert, key and ca"),
    ({"grpc_tls": {"cert": "/a.crt", "key": "key.pem", "ca": "/c.crt"}}, "extra.serving.grpc_tls.key"),
    ("vllm", "extra.serving must be a mapping"),
]


@pytest.mark.parametrize(("section", "message"), HOSTILE_SECTIONS, ids=[m for _, m in HOSTILE_SECTIONS])
def test_hostile_serving_settings_are_refused_naming_the_field(section: object, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_serving(section, lambda key: Location(field=f"extra.serving.{key}"))
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_complete_section_passes() -> None:
    section = {
        "image": f"registry.example.net:5000/vllm/vllm-openai:v0.9.2@{DIGEST}",
        "host": "10.100.0.11",
        "model_path": "/srv/models/Llama-3.1-70B-Instruct",
        "model_mirror": "https://hf-mirror.example.net:8443/hub",
        "token": "env:RACKCTL_HF_TOKEN",
        "api_key": "cred:serving-api-key",
        "grpc_tls": {
            "cert": "/etc/pki/triton/server.crt",
            "key": "/etc/pki/triton/server.key",
            "ca": "/etc/pki/ca.crt",
        },
    }
    check_serving(section, lambda key: None)
