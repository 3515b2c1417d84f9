"""Model sizing against worked examples: weights, KV cache by hand, GPUs per replica, replicas, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rackctl.errors import RackctlError, ValidationError
from rackctl.services.plan import data
from rackctl.services.plan.model import ModelRequest, fit, layout, memory, parse_params, plan_model, resolve

PLANNING = data.load()
H100 = PLANNING.gpus["h100"]
L40S = PLANNING.gpus["l40s"]

# Llama 3.1 70B: 80 layers, 8 KV heads of 128; one token's K and V in 16 bits.
KV_BYTES_PER_TOKEN_70B_FP16 = 2 * 80 * 8 * 128 * 2


def request(**overrides: object) -> ModelRequest:
    values: dict[str, object] = {"params": "70B", "precision": "fp16", "context": 8192, "concurrency": 1}
    return ModelRequest(**(values | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("70B", 70e9), ("8b", 8e9), ("1.5T", 1.5e12), ("350M", 350e6), ("405 B", 405e9), ("7000000000", 7e9)],
)
def test_parse_params(text: str, expected: float) -> None:
    assert parse_params(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["70", "seventy", "70X", "-70B", ""])
def test_parse_params_refuses_what_is_not_a_model_size(text: str) -> None:
    with pytest.raises(ValidationError, match="--params"):
        parse_params(text)


def test_70b_at_fp16_needs_140_gb_of_weights_and_more_than_one_80_gb_gpu() -> None:
    spec = resolve(PLANNING, request())
    need = memory(spec, PLANNING.overhead_fraction.value)
    assert need.weights_gb == pytest.approx(140.0)
    assert need.weights_gb * 1e9 / 2**30 > H100.memory_gib.value  # 130.4 GiB
    row = fit(H100, spec, need.total_gib)
    assert row.fits and row.gpus_per_replica == 2 and row.tensor_parallel == 2


def test_70b_at_int4_needs_35_gb_and_fits_one_80_gb_gpu() -> None:
    spec = resolve(PLANNING, request(precision="int4"))
    need = memory(spec, PLANNING.overhead_fraction.value)
    assert need.weights_gb == pytest.approx(35.0)
    # Weight-only INT4 keeps the KV cache in 16 bits.
    assert spec.kv_precision == "fp16"
    assert need.kv_cache_gb == pytest.approx(KV_BYTES_PER_TOKEN_70B_FP16 * 8192 / 1e9)
    assert need.total_gb == pytest.approx((35.0 + need.kv_cache_gb) * 1.10)
    assert fit(H100, spec, need.total_gib).gpus_per_replica == 1


def test_kv_cache_of_llama_70b_at_8k_context_and_64_sequences_by_hand() -> None:
    spec = resolve(PLANNING, request(arch="llama-3.1-70b", params=None, concurrency=64))
    need = memory(spec, 0.10)
    by_hand_gb = 2 * 80 * 8 * 128 * 2 * 8192 * 64 / 1e9  # 171.8 GB
    assert need.kv_bytes_per_token == KV_BYTES_PER_TOKEN_70B_FP16 == 327_680
    assert need.kv_cache_gb == pytest.approx(by_hand_gb)
    assert need.overhead_gb == pytest.approx(0.10 * (140.0 + by_hand_gb))
    assert spec.params == 70e9  # taken from the architecture


def test_fp8_halves_the_kv_cache_too() -> None:
    spec = resolve(PLANNING, request(precision="fp8", concurrency=64))
    assert spec.arch == "llama-3.1-70b"  # found from --params 70B
    need = memory(spec, 0.10)
    assert need.weights_gb == pytest.approx(70.0)
    assert need.kv_cache_gb == pytest.approx(80 * 8 * 128 * 2 * 8192 * 64 / 1e9)


def test_an_explicit_shape_gives_the_same_answer_as_the_named_architecture() -> None:
    named = plan_model(PLANNING, request(arch="llama-3.1-70b", concurrency=16))
    given = plan_model(PLANNING, request(layers=80, kv_heads=8, head_dim=128, concurrency=16))
    assert named.memory == given.memory
    assert given.spec.arch is None


def test_tensor_parallel_sizes_are_powers_of_two_within_the_nvlink_domain() -> None:
    assert layout(81, H100) == (2, 1)
    assert layout(161, H100) == (4, 1)
    assert layout(330, H100) == (8, 1)  # not 5: powers of two only
    assert layout(700, H100) == (8, 2)  # past one NVLink domain: pipeline stages of 8


def test_pcie_cards_stay_within_one_server() -> None:
    # L40S has no NVLink: tensor parallel stops at the 4 GPUs of one server, then pipeline stages.
    assert layout(175, L40S) == (4, 1)  # 4 x 44.99 GiB
    assert layout(200, L40S) == (4, 2)


def test_405b_at_fp16_needs_two_h100_nodes_but_one_h200_node() -> None:
    result = plan_model(PLANNING, request(arch="llama-3.1-405b", params=None, concurrency=16))
    rows = {r.gpu: r for r in result.gpus}
    assert result.memory.weights_gb == pytest.approx(810.0)
    assert (rows["h100"].tensor_parallel, rows["h100"].pipeline_stages) == (8, 2)
    assert rows["h200"].gpus_per_replica == 8


def test_a_gpu_without_the_precision_does_not_fit() -> None:
    result = plan_model(PLANNING, request(precision="fp8"))
    a100 = next(r for r in result.gpus if r.gpu == "a100")
    assert not a100.fits and a100.note == "no native fp8"


def test_replicas_for_a_target_throughput() -> None:
    result = plan_model(PLANNING, request(precision="fp8", concurrency=64, target_tps=5000, replica_tps=1500))
    assert result.replicas == 4
    h100 = next(r for r in result.gpus if r.gpu == "h100")
    assert h100.gpus_per_replica == 4 and h100.total_gpus == 16


def test_gpu_option_keeps_one_row() -> None:
    result = plan_model(PLANNING, request(gpu="H100"))
    assert [r.gpu for r in result.gpus] == ["h100"]


def test_a_model_too_large_for_any_rack_is_refused() -> None:
    with pytest.raises(RackctlError, match="no GPU can serve this model") as caught:
        plan_model(PLANNING, request(params="5000B", layers=200, kv_heads=16, head_dim=128))
    assert "a rack holds 32" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"concurrency": -1}, "--concurrency"),
        ({"context": 0}, "--context"),
        ({"precision": "fp9"}, "--precision"),
        ({"kv_precision": "fp4"}, "--kv-precision"),
        ({"gpu": "b200"}, "--gpu"),
        ({"arch": "llama-9"}, "--arch"),
        ({"params": "13B"}, "--arch"),  # no named architecture of that size, no shape given
        ({"arch": "llama-3.1-70b", "layers": 80}, "--arch"),
        ({"layers": 80}, "--layers"),
        ({"layers": 80, "kv_heads": -8, "head_dim": 128}, "--kv-heads"),
        ({"arch": "llama-3.1-8b", "params": None, "context": 200_000}, "--context"),
        ({"arch": "llama-3.1-8b"}, "--params"),  # 70B weights with an 8B model's shape
        ({"target_tps": 1000}, "--target-tps"),
        ({"target_tps": 1000, "replica_tps": 0}, "--replica-tps"),
    ],
)
def test_bad_input_names_the_option(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        plan_model(PLANNING, request(**overrides))
    assert f"field '{field}'" in str(caught.value)


def test_a_parameter_count_the_architecture_does_not_have_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        plan_model(PLANNING, request(arch="llama-3.1-8b"))
    assert "--params 70B contradicts --arch llama-3.1-8b, which has 8B parameters" in str(caught.value)
    assert caught.value.hint and "--layers" in caught.value.hint
    # Llama 3.1 8B has 8.03B parameters: a size within 10% of the named one is that model
    assert plan_model(PLANNING, request(arch="llama-3.1-8b", params="8.03B")).spec.params == pytest.approx(8.03e9)


def test_gpu_memory_is_what_the_driver_reports_in_gib() -> None:
    # An H100 SXM5 80GB reports 81559 MiB (the recorded nvidia-smi of tests/data/host, and the totals
    # modal-labs/modal-client#2797 lists): 79.6 GiB, which is 85.5 GB, not 80 GB.
    recorded = Path(__file__).parent.parent / "data" / "host" / "nvidia-smi" / "h100-sxm5-8gpu-565.xml"
    totals = {int(t) for t in re.findall(r"<fb_memory_usage>\s*<total>(\d+) MiB</total>", recorded.read_text())}
    assert totals == {81559}
    assert H100.memory_gib.value == pytest.approx(81559 / 1024, abs=0.01)
    assert PLANNING.gpus["a100"].memory_gib.value == pytest.approx(81920 / 1024, abs=0.01)
    assert PLANNING.gpus["l40s"].memory_gib.value == pytest.approx(46068 / 1024, abs=0.01)


def test_a_tight_fit_says_how_tight_and_how_much_is_left() -> None:
    # 70B at FP16 with 61 sequences of 8k: 334 GB = 311 GiB. In GB against "80 GB" cards that looked like
    # more than four H100s; in GiB it is four H100s at 98% of their memory, which is tight.
    result = plan_model(PLANNING, request(arch="llama-3.1-70b", params=None, concurrency=61, gpu="h100"))
    assert result.memory.total_gb == pytest.approx(334.1, abs=0.1)
    assert result.memory.total_gib == pytest.approx(311.1, abs=0.1)
    (row,) = result.gpus
    assert (row.tensor_parallel, row.fits, row.tight) == (4, True, True)
    assert row.utilisation == pytest.approx(0.977, abs=0.001) and row.headroom_gib == pytest.approx(1.9, abs=0.05)
    assert "tight: 98% of GPU memory, 1.9 GiB spare per GPU" in row.note
    roomy = plan_model(PLANNING, request(arch="llama-3.1-70b", params=None, concurrency=8, gpu="h100")).gpus[0]
    assert not roomy.tight and roomy.note == "TP4" and roomy.utilisation == pytest.approx(0.52, abs=0.01)
