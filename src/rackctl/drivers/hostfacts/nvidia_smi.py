"""nvidia-smi: `-q -x` (the XML report) and `--query-gpu=... --format=csv,noheader`."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

from rackctl.drivers.hostfacts.model import Gpu, GpuReport

# The fields the probe asks --query-gpu for, in order.
CSV_FIELDS = ("index", "name", "pci.bus_id", "serial", "uuid", "driver_version")


def _text(node: ET.Element | None, path: str) -> str:
    found = node.find(path) if node is not None else None
    return (found.text or "").strip() if found is not None else ""


def _gpu(index: int, node: ET.Element) -> Gpu:
    return Gpu(
        index=index,
        name=_text(node, "product_name"),
        bus_id=_text(node, "pci/pci_bus_id") or node.get("id", ""),
        serial=_na(_text(node, "serial")),
        uuid=_text(node, "uuid"),
        fabric_state=_text(node, "fabric/state"),
        fabric_status=_text(node, "fabric/status"),
    )


def parse_xml(text: str) -> GpuReport | None:
    """The report of `nvidia-smi -q -x`, or None when the text holds no readable report."""
    # NOTE(nvidia-smi, all drivers): warnings such as "infoROM is corrupted" may precede the XML.
    start = text.find("<nvidia_smi_log")
    if start < 0:
        return None
    try:
        root = ET.fromstring(text[start:].strip())
    except ET.ParseError:
        return None
    gpus = tuple(_gpu(i, node) for i, node in enumerate(root.findall("gpu")))
    attached = _text(root, "attached_gpus")
    return GpuReport(
        driver_version=_text(root, "driver_version"),
        cuda_version=_text(root, "cuda_version"),
        attached=int(attached) if attached.isdigit() else len(gpus),
        gpus=gpus,
    )


def parse_csv(text: str) -> GpuReport | None:
    """The GPUs of `nvidia-smi --query-gpu=<CSV_FIELDS> --format=csv,noheader`."""
    gpus = []
    driver = ""
    for line in text.splitlines():
        # One line at a time: a stray carriage return must not end the whole parse.
        row = next(csv.reader([line], skipinitialspace=True), [])
        if len(row) != len(CSV_FIELDS) or not row[0].strip().isdigit():
            continue
        values = dict(zip(CSV_FIELDS, (cell.strip() for cell in row), strict=True))
        driver = driver or values["driver_version"]
        gpus.append(
            Gpu(int(values["index"]), values["name"], values["pci.bus_id"], _na(values["serial"]), values["uuid"])
        )
    if not gpus:
        return None
    return GpuReport(driver_version=driver, attached=len(gpus), gpus=tuple(gpus))


def _na(value: str) -> str:
    return "" if value in ("[N/A]", "N/A", "[Not Supported]") else value


def failure(text: str) -> str:
    """nvidia-smi's own complaint when it could not report (first meaningful line)."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("<"):
            return line.strip()
    return "nvidia-smi printed nothing"
