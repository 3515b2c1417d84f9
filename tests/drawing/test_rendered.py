"""The elevation as a person sees it: rendered by headless Chromium (Debian's package), the label boxes
measured by the browser's own layout, and the screenshot checked for ink where each label is (issue 16)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from rackctl.drawing.browser import run_headless, screenshot

Cli = Callable[..., Any]
Box = tuple[float, float, float, float]  # left, top, right, bottom

# Each label's box as laid out, with the box of the shape it belongs to (a device, a PDU bar, a heading).
MEASURE = """<!doctype html><html><body style="margin:0">%s<pre id="out"></pre><script>
const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
const labels = [...document.querySelectorAll("text.label")].map((t) => {
  const group = t.closest("g.device");
  const shape = group ? group.querySelector("rect") : null;
  return {text: t.textContent, box: box(t), within: shape ? box(shape) : null,
          device: group ? group.dataset.name : null, through: group ? group.dataset.through : null};
});
document.getElementById("out").textContent = JSON.stringify(labels);
</script></body></html>"""


def _measure(svg: Path, tmp_path: Path) -> list[dict[str, Any]]:
    page = tmp_path / "measure.html"
    page.write_text(MEASURE % svg.read_text(encoding="utf-8").split("?>", 1)[1], encoding="utf-8")
    dom = run_headless(page, "--dump-dom")
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return list(json.loads(html.unescape(found.group(1))))


def _overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def _inside(inner: Box, outer: Box) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _has_ink(image: Image.Image, box: Box) -> bool:
    """Whether the screenshot holds dark pixels (glyphs) inside `box`."""
    left, top, right, bottom = (round(v) for v in box)
    darkest = image.convert("L").crop((left, top, right, bottom)).getextrema()[0]  # (min, max) in mode L
    return isinstance(darkest, int) and darkest < 110


def test_labels_render_inside_their_devices_without_overlap(r12: Cli, tmp_path: Path) -> None:
    # A name as long as the name rule allows, so the cut to fit is exercised in the browser too.
    long_name = "gpu-r12-u03-" + "x" * 51
    assert r12("device", "rename", "gpu-r12-u03", long_name).exit_code == 0
    svg, png = tmp_path / "r12.svg", tmp_path / "r12.png"
    assert r12("rack", "show", "r12", "--svg", str(svg)).exit_code == 0
    labels = _measure(svg, tmp_path)
    devices = {lab["device"] for lab in labels if lab["device"] and lab["through"] == "false"}
    assert devices == {long_name, "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27", "leaf-r12-a", "leaf-r12-b"} | {
        "mgmt-r12",
        "con-r12",
    }
    for lab in labels:
        if lab["within"]:
            assert _inside(lab["box"], lab["within"]), lab
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            assert not _overlap(a["box"], b["box"]), (a, b)
    cut = [lab["text"] for lab in labels if lab["device"] == long_name and lab["through"] == "false"]
    assert cut[0].startswith("gpu-r12-u03-xxx") and cut[0].endswith("…")
    width, height = (int(v) for v in re.findall(r'<svg[^>]* width="(\d+)" height="(\d+)"', svg.read_text())[0])
    screenshot(svg, png, width, height)
    with Image.open(png) as image:
        assert image.size == (width, height)
        for lab in labels:
            if lab["text"].strip():
                assert _has_ink(image, lab["box"]), lab
        blank = (labels[0]["box"][0], height - 12, labels[0]["box"][0] + 200, height - 2)  # the margin below
        assert not _has_ink(image, blank)
