"""Size a model for serving: weights, KV cache and overhead, then GPUs per replica and replicas.

Model sizes are in GB (10^9 bytes: 70B parameters x 2 bytes = 140 GB); GPU memory is in GiB, as the
hardware is built and as its driver reports it, and the need is converted before they are compared.

weights  = parameters x bytes per parameter
KV cache = 2 (K and V) x layers x KV heads x head size x bytes x context x concurrency
overhead = a fraction of both (activations, CUDA context, allocator slack)

A replica's GPUs form a tensor-parallel group of a power-of-two size inside one NVLink domain (one server
for PCIe cards); a model too big for the largest group is split into pipeline stages of such groups, and a
replica must fit in one rack.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from rackctl.errors import Location, RackctlError, ValidationError
from rackctl.services.plan.data import Architecture, Figure, Gpu, Planning

GB = 1e9
GIB = 2**30  # GPU memory is sized in GiB; the planning data's memory_gib is the driver's reported total
_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_PARAMS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMBT]?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelRequest:
    """What the user asked for, as typed (validated by `plan_model`)."""

    params: str | None
    precision: str
    context: int
    concurrency: int
    gpu: str | None = None
    arch: str | None = None
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    kv_precision: str | None = None
    target_tps: float | None = None
    replica_tps: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    """The model after defaults: parameter count, precisions and attention shape."""

    params: float
    precision: str
    bytes_per_param: float
    kv_precision: str
    kv_bytes: float
    context: int
    concurrency: int
    arch: str | None
    layers: int
    kv_heads: int
    head_dim: int


@dataclass(frozen=True)
class Memory:
    """Memory one replica needs, in GB (10^9 bytes)."""

    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    kv_bytes_per_token: float
    overhead_fraction: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb

    @property
    def total_gib(self) -> float:
        return self.total_gb * GB / GIB


@dataclass(frozen=True)
class GpuFit:
    """How one GPU of the catalogue serves a replica (or why it cannot)."""

    gpu: str
    name: str
    memory_gib: float
    fits: bool
    gpus_per_replica: int | None
    tensor_parallel: int | None
    pipeline_stages: int | None
    per_gpu_gib: float | None
    note: str
    utilisation: float | None = None  # share of the replica's GPU memory it needs
    headroom_gib: float | None = None  # what each GPU has left
    tight: bool = False  # fits, but above the planning data's tight_utilisation
    replicas: int | None = None
    total_gpus: int | None = None


@dataclass(frozen=True)
class ModelPlan:
    spec: ModelSpec
    memory: Memory
    gpus: list[GpuFit]
    replicas: int | None
    target_tps: float | None
    replica_tps: float | None
    assumptions: dict[str, Figure] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        memory = {**asdict(self.memory), "total_gb": self.memory.total_gb, "total_gib": self.memory.total_gib}
        throughput = None
        if self.replicas is not None:
            throughput = {"target_tps": self.target_tps, "replica_tps": self.replica_tps, "replicas": self.replicas}
        return {
            "model": asdict(self.spec),
            "memory": {k: round(v, 3) for k, v in memory.items()},
            "gpus": [asdict(g) for g in self.gpus],
            "throughput": throughput,
            "assumptions": {k: v.as_dict() for k, v in self.assumptions.items()},
        }


def parse_params(text: str) -> float:
    """A parameter count: `70B`, `8b`, `1.5T`, `350M` or a plain number of parameters."""
    match = _PARAMS.match(text)
    where = Location(field="--params")
    if not match:
        raise ValidationError(f"'{text}' is not a parameter count", where, hint="e.g. 70B, 8B, 1.5T, 350M")
    value = float(match.group(1)) * _SUFFIX[match.group(2).upper()]
    if value < 1e6:
        raise ValidationError(f"'{text}' is fewer than a million parameters", where, hint="did you mean 70B?")
    return value


def _positive(value: float | None, flag: str) -> None:
    if value is not None and value <= 0:
        raise ValidationError(f"must be greater than zero, got {value:g}", Location(field=flag))


def _known(name: str, known: dict[str, Any], flag: str, what: str) -> str:
    key = name.strip().lower()
    if key not in known:
        raise ValidationError(f"unknown {what} '{name}'", Location(field=flag), hint="known: " + ", ".join(known))
    return key


def _architecture(planning: Planning, request: ModelRequest, params: float | None) -> Architecture | None:
    explicit = (request.layers, request.kv_heads, request.head_dim)
    if request.arch is not None:
        if any(v is not None for v in explicit):
            raise ValidationError("give --arch or --layers/--kv-heads/--head-dim, not both", Location(field="--arch"))
        arch = planning.architectures[_known(request.arch, planning.architectures, "--arch", "architecture")]
        _same_size(arch, params)
        return arch
    if all(v is not None for v in explicit):
        return None
    if any(v is not None for v in explicit):
        raise ValidationError("--layers, --kv-heads and --head-dim go together", Location(field="--layers"))
    same = [a for a in planning.architectures.values() if params is not None and a.params_b.value * GB == params]
    if len(same) != 1:
        size = f"{params / GB:g}B" if params else "this model"
        raise ValidationError(
            f"no named architecture has {size} parameters, and the KV cache needs the model's shape",
            Location(field="--arch"),
            hint="--arch " + "|".join(planning.architectures) + " or --layers N --kv-heads N --head-dim N",
        )
    return same[0]


PARAMS_TOLERANCE = 0.1  # 8B against Llama 3.1 8B's 8.03B is the same model; 70B against 8B is not


def _same_size(arch: Architecture, params: float | None) -> None:
    """Refuse a parameter count the named architecture does not have: its shape would size the KV cache
    of one model and the weights of another."""
    size = arch.params_b.value * GB
    if params is not None and abs(params - size) > PARAMS_TOLERANCE * size:
        raise ValidationError(
            f"--params {params / GB:g}B contradicts --arch {arch.key}, which has {arch.params_b.value:g}B parameters",
            Location(field="--params"),
            hint="drop --params (the architecture knows its size), or give --layers/--kv-heads/--head-dim instead",
        )


def _check_counts(request: ModelRequest) -> None:
    for flag, count in (("--context", request.context), ("--concurrency", request.concurrency)):
        if count < 1:
            raise ValidationError(f"must be at least 1, got {count}", Location(field=flag))
    _positive(request.layers, "--layers")
    _positive(request.kv_heads, "--kv-heads")
    _positive(request.head_dim, "--head-dim")


def _shape(arch: Architecture | None, request: ModelRequest) -> tuple[int, int, int]:
    """Layers, KV heads and head size: the named architecture's, or the ones given."""
    if arch is None:
        return int(request.layers or 0), int(request.kv_heads or 0), int(request.head_dim or 0)
    if request.context > arch.max_context.value:
        where = Location(field="--context")
        raise ValidationError(f"{arch.key} takes at most {arch.max_context.value:.0f} tokens of context", where)
    return int(arch.layers.value), int(arch.kv_heads.value), int(arch.head_dim.value)


def _params(request: ModelRequest, arch: Architecture | None, parsed: float | None) -> float:
    if parsed is not None:
        return parsed
    if arch is None:
        raise ValidationError("give --params (or --arch, which knows its size)", Location(field="--params"))
    return arch.params_b.value * GB


def resolve(planning: Planning, request: ModelRequest) -> ModelSpec:
    """Check the request and fill in defaults from the planning data."""
    _check_counts(request)
    precision = planning.precisions[_known(request.precision, planning.precisions, "--precision", "precision")]
    kv_name = _known(request.kv_precision or precision.kv_cache, planning.precisions, "--kv-precision", "precision")
    parsed = parse_params(request.params) if request.params is not None else None
    arch = _architecture(planning, request, parsed)
    layers, kv_heads, head_dim = _shape(arch, request)
    return ModelSpec(
        params=_params(request, arch, parsed),
        precision=precision.name,
        bytes_per_param=precision.bytes.value,
        kv_precision=kv_name,
        kv_bytes=planning.precisions[kv_name].bytes.value,
        context=request.context,
        concurrency=request.concurrency,
        arch=arch.key if arch else None,
        layers=layers,
        kv_heads=kv_heads,
        head_dim=head_dim,
    )


def memory(spec: ModelSpec, overhead_fraction: float) -> Memory:
    """Weights, KV cache at full context and concurrency, and the runtime overhead on both."""
    weights = spec.params * spec.bytes_per_param / GB
    per_token = 2 * spec.layers * spec.kv_heads * spec.head_dim * spec.kv_bytes
    kv_cache = per_token * spec.context * spec.concurrency / GB
    return Memory(weights, kv_cache, overhead_fraction * (weights + kv_cache), per_token, overhead_fraction)


def layout(need_gib: float, gpu: Gpu) -> tuple[int, int]:
    """The smallest (tensor-parallel size, pipeline stages) whose GPUs hold `need_gib`."""
    memory_gib, domain = gpu.memory_gib.value, int(gpu.tp_domain.value)
    tp = 1
    while tp * 2 <= domain and tp * memory_gib < need_gib:
        tp *= 2
    return tp, max(1, math.ceil(need_gib / (tp * memory_gib)))


def fit(gpu: Gpu, spec: ModelSpec, need_gib: float, tight: float = 1.0) -> GpuFit:
    """How many of `gpu` one replica needs, whether that fits a rack, and how much memory is left."""
    tp, stages = layout(need_gib, gpu)
    count = tp * stages
    rack = int(gpu.rack_gpus.value)
    use = need_gib / (count * gpu.memory_gib.value)
    headroom = gpu.memory_gib.value - need_gib / count
    note = f"TP{tp}" + (f" x {stages} pipeline stages" if stages > 1 else "")
    fits = count <= rack and spec.precision in gpu.precisions
    if spec.precision not in gpu.precisions:
        note = f"no native {spec.precision}"
    elif count > rack:
        note = f"needs {count} GPUs, a rack holds {rack}"
    elif use > tight:
        note += f"; tight: {use:.0%} of GPU memory, {headroom:,.1f} GiB spare per GPU"
    per_gpu = round(need_gib / count, 3)
    if spec.precision not in gpu.precisions:
        return GpuFit(gpu.key, gpu.name, gpu.memory_gib.value, False, None, None, None, None, note)
    return GpuFit(
        gpu.key,
        gpu.name,
        gpu.memory_gib.value,
        fits,
        count,
        tp,
        stages,
        per_gpu,
        note,
        round(use, 4),
        round(headroom, 3),
        fits and use > tight,
    )


def replicas_needed(target_tps: float, replica_tps: float) -> int:
    return math.ceil(target_tps / replica_tps)


def _throughput(request: ModelRequest) -> int | None:
    given = (request.target_tps, request.replica_tps)
    if given.count(None) == 1:
        raise ValidationError("--target-tps and --replica-tps go together", Location(field="--target-tps"))
    _positive(request.target_tps, "--target-tps")
    _positive(request.replica_tps, "--replica-tps")
    if request.target_tps is None or request.replica_tps is None:
        return None
    return replicas_needed(request.target_tps, request.replica_tps)


def _with_replicas(row: GpuFit, replicas: int | None) -> GpuFit:
    if replicas is None or not row.fits or row.gpus_per_replica is None:
        return row
    return GpuFit(**{**asdict(row), "replicas": replicas, "total_gpus": replicas * row.gpus_per_replica})


def plan_model(planning: Planning, request: ModelRequest) -> ModelPlan:
    """Size the model, fit it to each GPU of the catalogue (or the one asked for) and count replicas."""
    spec = resolve(planning, request)
    replicas = _throughput(request)
    gpus = list(planning.gpus.values())
    if request.gpu is not None:
        gpus = [planning.gpus[_known(request.gpu, planning.gpus, "--gpu", "GPU")]]
    need = memory(spec, planning.overhead_fraction.value)
    tight = planning.tight_utilisation.value
    rows = [_with_replicas(fit(gpu, spec, need.total_gib, tight), replicas) for gpu in gpus]
    if not any(r.fits for r in rows):
        reasons = "; ".join(f"{r.gpu}: {r.note}" for r in rows)
        raise RackctlError(
            f"no GPU can serve this model ({need.total_gib:,.0f} GiB per replica) in one rack: {reasons}"
        )
    return ModelPlan(spec, need, rows, replicas, request.target_tps, request.replica_tps, _assumptions(planning, spec))


def _assumptions(planning: Planning, spec: ModelSpec) -> dict[str, Figure]:
    figures = {
        f"bytes_per_param.{spec.precision}": planning.precisions[spec.precision].bytes,
        f"kv_bytes.{spec.kv_precision}": planning.precisions[spec.kv_precision].bytes,
        "runtime_overhead_fraction": planning.overhead_fraction,
        "tight_utilisation": planning.tight_utilisation,
    }
    if spec.arch:
        arch = planning.architectures[spec.arch]
        figures |= {f"{spec.arch}.{k}": getattr(arch, k) for k in ("layers", "kv_heads", "head_dim")}
    return figures
