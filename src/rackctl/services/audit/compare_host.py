"""Host layer, GPU stack and services: driver, GPUs, Fabric Manager, CUDA, DCGM, XIDs, serving.

A pure function of the expected state (inventory) and the observed facts (the host probe).
"""

from __future__ import annotations

import re
from collections import Counter

from rackctl.drivers.hostfacts import Gpu, HostFacts
from rackctl.services.audit.compare_common import MakeFinding, maker
from rackctl.services.audit.compare_hostnet import compare_network
from rackctl.services.audit.state import DCGM_UNIT, FABRICMANAGER_UNIT, HostExpected
from rackctl.types import Finding, Layer, Severity
from rackctl.versions import same_version, version_at_least

# XIDs that take a GPU out of service (NVIDIA's XID catalog: "resolution: reset GPU / RMA").
CRITICAL_XIDS = frozenset({48, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140})
XID_HINTS = {
    79: "the GPU fell off the PCIe bus: drain, power-cycle the node (a reboot is not enough), reseat the tray; "
    "RMA if it happens again",
    48: "double-bit ECC error: drain, reset the GPU (nvidia-smi -r) or reboot, then check remapped rows",
    94: "contained ECC error: the affected process died; reset the GPU when it is idle",
    95: "uncontained ECC error: drain and reboot; RMA if remapping failed",
    74: "NVLink error: check Fabric Manager and the NVLink status (nvidia-smi nvlink -s); reseat the baseboard",
    119: "GSP firmware timeout: reboot; upgrade the driver if it repeats",
    120: "GSP firmware error: reboot; upgrade the driver if it repeats",
    13: "graphics engine exception, usually the workload: check the serving runtime's logs",
    31: "GPU memory page fault, usually the workload: check the serving runtime's logs",
    43: "a GPU program stopped (often a killed process): check the serving runtime's logs",
}


def compare_host(expected: HostExpected, observed: HostFacts) -> list[Finding]:
    """Findings for one GPU node's operating system against its profile and device type."""
    make = maker(expected.device, Layer.HOST)
    findings = _nvidia_smi(expected, observed, make) + _driver(expected, observed, make)
    findings += _gpus(expected, observed, make) + _fabric_manager(expected, observed, make)
    findings += _cuda(expected, observed, make) + _dcgm(expected, observed, make) + _xids(observed, make)
    findings += _kernel(expected, observed, make) + _serving(expected, observed, make)
    return findings + compare_network(expected, observed, make)


def _nvidia_smi(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    if exp.gpu_count == 0 or obs.gpus is not None:
        return []
    error = obs.smi_error
    if "mismatch" in error.lower():
        hint = f"the driver was changed without a reboot: drain {exp.device} and reboot it"
    elif "not found" in error.lower():
        hint = f"nvidia-smi is not installed: provision the driver (rackctl provision {exp.device} --tags gpu_driver)"
    else:
        hint = "the nvidia kernel module is not running: check `dkms status`, Secure Boot and dmesg, then reboot"
    return [make("nvidia-smi", f"nvidia-smi lists {exp.gpu_count} GPUs", error, Severity.CRITICAL, hint)]


def _loaded_driver(obs: HostFacts) -> str:
    return obs.driver_loaded or (obs.gpus.driver_version if obs.gpus else "")


def _driver(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    want = exp.nvidia_driver
    if not want:
        return []
    loaded, installed = _loaded_driver(obs), obs.driver_installed
    if loaded and not same_version(want, loaded):
        pending = installed and same_version(want, installed)
        hint = (
            f"the pinned driver is installed but {loaded} is still loaded: drain {exp.device} and reboot it"
            if pending
            else f"install the pinned driver {want}: rackctl provision {exp.device} --tags gpu_driver"
        )
        return [make("nvidia-driver", want, f"{loaded} loaded", Severity.CRITICAL, hint)]
    if installed and not same_version(want, installed):
        hint = f"driver {installed} will load at the next reboot: reinstall {want} and hold it before rebooting"
        return [make("nvidia-driver-installed", want, f"{installed} installed", Severity.WARNING, hint)]
    if not loaded and not installed and obs.gpus is not None:
        hint = f"install the pinned driver {want}: rackctl provision {exp.device} --tags gpu_driver"
        return [make("nvidia-driver", want, "no NVIDIA driver", Severity.CRITICAL, hint)]
    return []


def gpu_model_matches(expected: str, product_name: str) -> bool:
    """'H100-SXM5-80GB' (the device type) against nvidia-smi's 'NVIDIA H100 80GB HBM3'.

    NOTE(nvidia-smi product names): SXM parts say neither 'SXM' nor 'PCIe' ('NVIDIA H100 80GB HBM3'),
    PCIe parts say 'PCIe', NVL parts 'NVL'; some names carry the memory size ('80GB'), some do not
    ('NVIDIA L40S', 'NVIDIA H200'); the family is always there.
    """
    words = product_name.upper().replace("-", " ").split()
    sizes = [w for w in words if re.fullmatch(r"\d+GB", w)]
    for token in (t for t in re.split(r"[-_ ]+", expected.upper()) if t):
        if token.startswith("SXM"):
            if "PCIE" in words or "NVL" in words:
                return False
        elif re.fullmatch(r"\d+GB", token):
            if sizes and token not in sizes:
                return False
        elif token not in words:
            return False
    return True


def _gpus(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    if obs.gpus is None or exp.gpu_count == 0:
        return []
    gpus = obs.gpus.gpus
    findings = []
    if len(gpus) != exp.gpu_count:
        seen = ", ".join(_short_bus(g.bus_id) for g in gpus) or "none"
        hint = (
            f"{exp.device} sees {len(gpus)} of {exp.gpu_count} GPUs: look for XID 79 in the kernel log, check "
            "`lspci -d 10de:`, power-cycle the node and reseat the GPU tray; RMA the GPU if it stays missing"
        )
        findings.append(make("gpu-count", exp.gpu_count, f"{len(gpus)} (bus {seen})", Severity.CRITICAL, hint))
    wrong = [g for g in gpus if exp.gpu_model and not gpu_model_matches(exp.gpu_model, g.name)]
    for gpu in wrong:
        hint = "the installed GPU is not the device type's: fix the inventory's device type or swap the part"
        findings.append(make("gpu-model", exp.gpu_model, gpu.name, Severity.CRITICAL, hint, _short_bus(gpu.bus_id)))
    return findings + _fabric_states(exp, gpus, make)


def _short_bus(bus_id: str) -> str:
    # "00000000:18:00.0" -> "18"
    parts = bus_id.split(":")
    return parts[1] if len(parts) == 3 else bus_id


def _fabric_states(exp: HostExpected, gpus: tuple[Gpu, ...], make: MakeFinding) -> list[Finding]:
    if not exp.fabric_manager:
        return []
    findings = []
    for gpu in gpus:
        state, status = gpu.fabric_state, gpu.fabric_status
        if state in ("", "N/A") or (state == "Completed" and status in ("Success", "", "N/A")):
            continue
        hint = "the GPU is not in the NVLink fabric: check `journalctl -u nvidia-fabricmanager`, then restart it"
        observed = f"{state} / {status}"
        findings.append(
            make("gpu-fabric", "Completed / Success", observed, Severity.CRITICAL, hint, _short_bus(gpu.bus_id))
        )
    return findings


def _package(obs: HostFacts, prefix: str) -> tuple[str, str]:
    """(package, version) of the first installed package whose name starts with `prefix`."""
    for name, version in sorted(obs.packages.items()):
        if name.startswith(prefix):
            return name, version
    return "", ""


def _unit(obs: HostFacts, unit: str, make: MakeFinding, hint: str) -> list[Finding]:
    state = obs.units.get(unit)
    if state is not None and state.running:
        return []
    observed = f"{state.active} ({state.sub})" if state else "unknown (systemctl did not answer)"
    if state is not None and state.load == "not-found":
        observed = "not installed"
    return [make("service", "active (running)", observed, Severity.CRITICAL, hint, unit)]


def _fabric_manager(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    want = exp.fabric_manager
    if not want:
        return []
    findings = _unit(obs, FABRICMANAGER_UNIT, make,
                     f"start it on {exp.device}: systemctl start nvidia-fabricmanager; if it exits at once, its "
                     "version differs from the driver's (journalctl -u nvidia-fabricmanager)")  # fmt: skip
    package, version = _package(obs, "nvidia-fabric")
    driver = _loaded_driver(obs)
    hint = (
        f"Fabric Manager must equal the driver exactly: install {package or 'nvidia-fabricmanager'}={want} and hold it"
    )
    if not version:
        findings.append(make("fabricmanager-version", want, "not installed", Severity.CRITICAL, hint))
    elif not same_version(want, version) or (driver and not same_version(version, driver)):
        observed = f"{version} (driver {driver or 'unknown'})"
        findings.append(make("fabricmanager-version", want, observed, Severity.CRITICAL, hint))
    return findings


def _cuda(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    want = exp.cuda
    if not want:
        return []
    toolkits = [
        name.removeprefix("cuda-toolkit-").replace("-", ".")
        for name in obs.packages
        if name.startswith("cuda-toolkit-")
    ]
    if toolkits and not any(same_version(want, t) for t in toolkits):
        hint = f"install cuda-toolkit-{want.replace('.', '-')} (rackctl provision {exp.device} --tags cuda)"
        return [make("cuda", want, ", ".join(sorted(toolkits)), Severity.WARNING, hint)]
    supported = obs.gpus.cuda_version if obs.gpus else ""
    if not toolkits and supported and not version_at_least(supported, want):
        hint = f"the driver only supports CUDA {supported}: upgrade the driver to one that supports {want}"
        return [make("cuda", f"driver supporting CUDA {want}", supported, Severity.CRITICAL, hint)]
    return []


def _dcgm(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    want = exp.dcgm
    if not want:
        return []
    findings = _unit(obs, DCGM_UNIT, make, f"start the DCGM host engine on {exp.device}: systemctl start nvidia-dcgm")
    _, version = _package(obs, "datacenter-gpu-manager")
    if version and not same_version(want, version):
        hint = f"install DCGM {want} (rackctl provision {exp.device} --tags dcgm)"
        findings.append(make("dcgm-version", want, version, Severity.WARNING, hint))
    health = obs.dcgm
    if health is not None and health.overall != "Healthy":
        severity = Severity.CRITICAL if health.overall == "Failure" else Severity.WARNING
        hint = "; ".join(health.incidents) or "run `dcgmi health -c` on the node for details"
        findings.append(make("dcgm-health", "Healthy", health.overall, severity, hint))
    elif health is None and obs.units.get(DCGM_UNIT, None) and obs.units[DCGM_UNIT].running:
        hint = "enable DCGM health watches: dcgmi health -s a (the dcgm role does this at provisioning)"
        findings.append(make("dcgm-health", "Healthy", obs.dcgm_error or "no report", Severity.WARNING, hint))
    return findings


def _xids(obs: HostFacts, make: MakeFinding) -> list[Finding]:
    counts = Counter((event.bus, event.code) for event in obs.xids)
    last = {(event.bus, event.code): event.line for event in obs.xids}
    findings = []
    for (bus, code), count in sorted(counts.items()):
        severity = Severity.CRITICAL if code in CRITICAL_XIDS else Severity.WARNING
        hint = XID_HINTS.get(code, f"look XID {code} up in NVIDIA's XID catalog and follow its resolution")
        observed = f"XID {code} x{count}: {last[(bus, code)][-160:]}"
        findings.append(make("gpu-xid", "no XID errors since boot", observed, severity, hint, f"{bus} xid {code}"))
    return findings


def _kernel(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    if not exp.kernel or not obs.kernel or same_version(exp.kernel, obs.kernel):
        return []
    hint = "boot the profile's kernel (and keep its NVIDIA module packages installed)"
    return [make("kernel", exp.kernel, obs.kernel, Severity.WARNING, hint)]


def _serving(exp: HostExpected, obs: HostFacts, make: MakeFinding) -> list[Finding]:
    findings = []
    if exp.serving_unit:
        unit = exp.serving_unit
        findings += _unit(obs, unit, make, f"start it: systemctl start {unit}; if it fails, journalctl -u {unit}")
    if exp.serving_port and obs.serving_http != 200:
        observed = "no answer" if not obs.serving_http else f"HTTP {obs.serving_http}"
        if obs.serving_http is None:
            observed = "not checked (curl missing)" if "curl" in obs.missing_tools else "not checked"
        hint = (
            f"{exp.serving_runtime or 'the runtime'} does not answer on port {exp.serving_port}: check its unit's "
            "log, GPU memory (nvidia-smi) and that the model finished loading"
        )
        findings.append(make("serving-health", "HTTP 200", observed, Severity.CRITICAL, hint))
    return findings
