"""`rackctl rack show RACK --svg FILE`: the SVG parses, holds what the inventory holds, and carries hostile
inventory text as text (issue 16, pictures). The rendering in a real browser is tests/drawing/test_rendered.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rackctl.drawing.picture import Bar, Finding, Mounted, PduPanel, RackPicture
from rackctl.drawing.svg import render_svg
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.inventory.models.audit import AuditFinding, AuditRun
from rackctl.types import Layer, Severity

Cli = Callable[..., Any]
NS = {"s": "http://www.w3.org/2000/svg"}
HOSTILE = "\"><script>alert('x')</script> & ]]> <!-- $(reboot) `id` \u202e"


def _draw(cli: Cli, tmp_path: Path, rack: str = "r12") -> ET.Element:
    out = tmp_path / "rack.svg"
    result = cli("rack", "show", rack, "--svg", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"rack {rack} drawn to {out}"
    return ET.fromstring(out.read_bytes())


def _devices(root: ET.Element, face: str) -> dict[str, ET.Element]:
    groups = root.findall(f".//s:g[@data-face='{face}']/s:g[@class='device']", NS)
    return {g.get("data-name", ""): g for g in groups if g.get("data-through") == "false"}


def test_the_svg_holds_every_device_empty_unit_and_pdu_of_the_rack(r12: Cli, tmp_path: Path) -> None:
    root = _draw(r12, tmp_path)
    shown = r12("rack", "show", "r12", "--json").json()
    tops = {u["device"]: u for u in shown["units"] if u["device"] and not u["continued"]}
    front = _devices(root, "front")
    assert set(front) == {n for n, u in tops.items() if u["face"] == "front"}
    for name, group in front.items():
        title = group.find("s:title", NS)
        assert title is not None and title.text is not None and title.text.startswith(f"{name}\n")
        labels = "".join(t.text or "" for t in group.findall("s:text", NS))
        assert name in labels and "planned" in labels
    units = root.findall(".//s:g[@data-face='front']/s:line[@class='unit']", NS)
    assert [int(u.get("data-u", "0")) for u in units] == list(range(shown["u_height"], 0, -1))
    pdus = {g.get("data-name"): g for g in root.findall(".//s:g[@class='pdu']", NS)}
    assert set(pdus) == {p["name"] for p in shown["zero_u"]}
    for pdu in shown["zero_u"]:
        total = pdus[pdu["name"]].find("s:g[@data-label='PDU']", NS)
        assert total is not None and round(int(total.get("data-watts", "0")) / 1000, 2) == pdu["load_kw"]
    phases = {(p["pdu"], p["phase"]): round(p["watts"]) for p in shown["phases"]}
    drawn = {
        (g.get("data-name"), b.get("data-label")): int(b.get("data-watts", "0"))
        for g in pdus.values()
        for b in g.findall("s:g[@class='bar']", NS)
        if b.get("data-label") != "PDU"
    }
    assert drawn == phases


def test_full_depth_devices_show_through_on_the_rear(r12: Cli, tmp_path: Path) -> None:
    root = _draw(r12, tmp_path)
    rear = root.findall(".//s:g[@data-face='rear']/s:g[@class='device']", NS)
    assert {g.get("data-name") for g in rear if g.get("data-through") == "true"} >= {"gpu-r12-u03", "leaf-r12-a"}


def test_open_audit_findings_are_marked_on_their_device(r12: Cli, db: Database, tmp_path: Path) -> None:
    with db.transaction() as session:
        run = AuditRun(actor="tester", targets="@rack:r12")
        session.add(run)
        session.flush()
        for check, resolved in (("bmc-firmware", False), ("old-fixed-one", True)):
            session.add(
                AuditFinding(
                    device="gpu-r12-u11", layer=Layer.BMC, check=check, severity=Severity.CRITICAL,
                    observed=HOSTILE, first_seen_run_id=run.id, last_seen_run_id=run.id,
                    resolved_run_id=run.id if resolved else None,
                    resolved_at=run.started_at if resolved else None,
                )
            )  # fmt: skip
    root = _draw(r12, tmp_path)
    marks = root.findall(".//s:g[@data-face='front']//s:g[@class='finding']", NS)
    assert len(marks) == 1 and marks[0].get("data-severity") == "critical"
    title = marks[0].find("s:title", NS)
    assert title is not None and title.text == f"critical: bmc/bmc-firmware: {HOSTILE}"
    device = _devices(root, "front")["gpu-r12-u11"]
    assert device.find(".//s:g[@class='finding']", NS) is not None


def _hostile_picture(name: str, text: str) -> RackPicture:
    findings = (Finding("warning", text + "\x00\x1b[31m\ud800"),)
    device = Mounted(name, text, "gpu-node", "failed", 4, 2, findings=findings)
    bar = Bar(text, 1000.0, 2500.0, 2000.0)
    return RackPicture(name, text, 6, {"front": [device], "rear": []}, [PduPanel(name, text, (bar,), findings)], [bar])


def test_hostile_text_stays_text(tmp_path: Path) -> None:
    name = "x" * 63  # the longest name the name rule lets in
    root = ET.fromstring(render_svg(_hostile_picture(name, HOSTILE)).encode())
    assert [el.tag.split("}")[1] for el in root.iter()].count("script") == 0
    assert all(not k.startswith("on") for el in root.iter() for k in el.attrib)
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert f"{name}\n{HOSTILE} (gpu-node)\nU3-U4, failed" in titles
    # Characters XML cannot carry (NUL, ESC, a lone surrogate) are replaced, never dropped silently.
    assert f"warning: {HOSTILE}\ufffd\ufffd[31m\ufffd" in titles
    labels = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "label"]
    assert any(label.startswith("xxxxxxxx") and label.endswith("…") for label in labels), labels


def test_png_is_drawn_at_the_svg_size(r12: Cli, tmp_path: Path) -> None:
    from PIL import Image

    svg, png = tmp_path / "r12.svg", tmp_path / "r12.png"
    result = r12("rack", "show", "r12", "--svg", str(svg), "--png", str(png))
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(svg.read_bytes())
    with Image.open(png) as image:
        assert image.size == (int(root.get("width", "0")), int(root.get("height", "0")))


def test_an_unknown_rack_or_unwritable_file_is_one_line(r12: Cli, tmp_path: Path) -> None:
    missing = r12("rack", "show", "r99", "--svg", str(tmp_path / "x.svg"))
    assert missing.exit_code == 2 and "no rack named 'r99'" in missing.stderr and not (tmp_path / "x.svg").exists()
    blocked = r12("rack", "show", "r12", "--svg", str(tmp_path / "no-such-dir" / "x.svg"))
    assert blocked.exit_code == 2 and blocked.stderr.startswith("error: cannot write "), blocked.stderr
    assert "Traceback" not in blocked.stderr


def test_a_rack_with_devices_of_every_kind_is_drawn(cli: Cli, db: Database, tmp_path: Path) -> None:
    assert cli("rack", "create", "r20", "-t", "l40s-8node", "-s", "fra1").exit_code == 0
    root = _draw(cli, tmp_path, "r20")
    with db.transaction() as session:
        mounted = {d.name for d in session.query(Device).filter(Device.position.is_not(None))}
    drawn = {g.get("data-name") for g in root.findall(".//s:g[@class='device']", NS)}
    assert drawn == mounted
