"""A rack elevation as SVG: front and rear by U, like NetBox's, with PDU and feed load bars.

Every inventory string reaches the document only as element text or attribute values written by
ElementTree (which escapes `&`, `<`, `>` and quotes); characters XML 1.0 cannot carry at all are replaced.
Labels are cut to their box with an ellipsis (the full text is in the box's `<title>` tooltip), measured in
a monospace font so the cut is exact; the rendering test checks that in a real browser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from rackctl.drawing.picture import Bar, Finding, Mounted, PduPanel, RackPicture

U_PX = 22
FACE_W = 300
GUTTER = 30
TOP = 56
PANEL_W = 340
BAR_W = 180
FONT = "DejaVu Sans Mono, monospace"
ADVANCE = 0.61  # DejaVu Sans Mono's advance per px of font size (0.602), rounded up
ROLE_FILL = {
    "gpu-node": "#c9daf8",
    "leaf": "#d9ead3",
    "spine": "#b6d7a8",
    "ib-switch": "#d0e0e3",
    "mgmt-switch": "#fff2cc",
    "console-server": "#ead1dc",
    "storage": "#fce5cd",
}
STATE_COLOUR = {"in-service": "#38761d", "failed": "#cc0000", "maintenance": "#e69138", "decommissioned": "#666666"}
SEVERITY_COLOUR = {"critical": "#cc0000", "warning": "#e69138", "info": "#3d85c6"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 cannot carry (controls, lone surrogates) replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def fit(text: str, width_px: float, size: int = 11) -> str:
    """`text` cut with an ellipsis to what fits in `width_px` of the label font at `size` px."""
    room = max(1, int(width_px // (size * ADVANCE)))
    return text if len(text) <= room else text[: room - 1] + "…"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def _label(parent: ET.Element, x: float, y: float, text: str, width: float, size: int = 11, **attrs: object) -> None:
    _el(parent, "text", fit(text, width, size), x=x, y=y, font_family=FONT, font_size=size, class_="label", **attrs)


def _badge(group: ET.Element, findings: tuple[Finding, ...], x: float, y: float) -> None:
    """A disc with the number of open audit findings, coloured by the worst one; the findings as tooltip."""
    order = list(SEVERITY_COLOUR)
    worst = min((f.severity for f in findings), key=lambda s: order.index(s) if s in order else len(order))
    badge = _el(group, "g", class_="finding", data_severity=worst)
    _el(badge, "title", "\n".join(f"{f.severity}: {f.text}" for f in findings))
    _el(badge, "circle", cx=x, cy=y, r=8, fill=SEVERITY_COLOUR.get(worst, "#999999"))
    _el(
        badge,
        "text",
        str(len(findings)),
        x=x,
        y=y + 4,
        font_family=FONT,
        font_size=10,
        fill="#ffffff",
        text_anchor="middle",
    )


def _device(face: ET.Element, d: Mounted, x: float, y0: float, u_height: int) -> None:
    y = y0 + (u_height - d.top_u) * U_PX
    h = d.height * U_PX
    group = _el(face, "g", class_="device", data_name=d.name, data_state=d.state, data_through=str(d.through).lower())
    _el(group, "title", f"{d.name}\n{d.kind} ({d.role})\nU{d.top_u - d.height + 1}-U{d.top_u}, {d.state}")
    fill = "#eeeeee" if d.through else ROLE_FILL.get(d.role, "#f3f3f3")
    _el(group, "rect", x=x + 1, y=y + 1, width=FACE_W - 2, height=h - 2, fill=fill, stroke="#555555", rx=2)
    if d.through:  # a full-depth device seen from behind: named, but plainly not mounted on this face
        _label(group, x + 10, y + 15, d.name, FACE_W - 20, fill="#555555", font_style="italic")
        return
    _el(group, "rect", x=x + 1, y=y + 1, width=6, height=h - 2, fill=STATE_COLOUR.get(d.state, "#3d85c6"))
    room = FACE_W - 20 - (22 if d.findings else 0)
    detail = f"{d.kind} · {d.state}"
    if d.height >= 2:
        _label(group, x + 12, y + 15, d.name, room, font_weight="bold")
        _label(group, x + 12, y + 30, detail, room)
    else:
        _label(group, x + 12, y + 15, f"{d.name}  {detail}", room, font_weight="bold")
    if d.findings:
        _badge(group, d.findings, x + FACE_W - 14, y + 11)


def _face(svg: ET.Element, pic: RackPicture, face: str, x: float) -> None:
    group = _el(svg, "g", class_="face", data_face=face)
    _label(group, x, TOP - 8, f"{face}", FACE_W, font_weight="bold")
    _el(group, "rect", x=x, y=TOP, width=FACE_W, height=pic.u_height * U_PX, fill="#fafafa", stroke="#222222")
    for u in range(pic.u_height, 0, -1):
        y = TOP + (pic.u_height - u) * U_PX
        _el(group, "line", x1=x, y1=y, x2=x + FACE_W, y2=y, stroke="#dddddd", class_="unit", data_u=u)
        _el(group, "text", str(u), x=x - 4, y=y + 15, font_family=FONT, font_size=9, text_anchor="end", fill="#666666")
    for device in sorted(pic.faces.get(face, []), key=lambda d: d.through):
        _device(group, device, x, TOP, pic.u_height)


def _bar(parent: ET.Element, bar: Bar, x: float, y: float) -> None:
    """Load as a filled bar against the derated limit (the whole track); a tick at the load with a feed lost."""
    group = _el(
        parent,
        "g",
        class_="bar",
        data_label=bar.label,
        data_watts=round(bar.watts),
        data_worst=round(bar.worst),
        data_limit=round(bar.limit) if bar.limit else "",
    )
    _label(group, x, y + 11, bar.label, 40)
    track = x + 44
    _el(group, "rect", x=track, y=y + 2, width=BAR_W, height=11, fill="#f3f3f3", stroke="#999999")
    kw = (
        f"{bar.watts / 1000:.1f}/{bar.worst / 1000:.1f} of {bar.limit / 1000:.1f} kW" if bar.limit else "no limit known"
    )
    if bar.limit:
        share, worst = bar.watts / bar.limit, bar.worst / bar.limit
        colour = "#cc0000" if worst > 1 else "#e69138" if worst > 0.9 else "#6aa84f"
        _el(group, "rect", x=track, y=y + 2, width=BAR_W * min(share, 1), height=11, fill=colour)
        _el(
            group,
            "line",
            x1=track + BAR_W * min(worst, 1),
            y1=y,
            x2=track + BAR_W * min(worst, 1),
            y2=y + 15,
            stroke="#000000",
            stroke_width=2,
        )
    _el(group, "title", f"{bar.label}: {kw} (normal / one feed lost, of the derated limit)")
    _label(group, track + BAR_W + 6, y + 11, kw.replace(" of ", "/").replace(" kW", ""), PANEL_W - BAR_W - 50, size=9)


def _pdu(parent: ET.Element, pdu: PduPanel, x: float, y: float) -> float:
    group = _el(parent, "g", class_="pdu", data_name=pdu.name)
    _el(group, "title", f"{pdu.name} on feed {pdu.feed}")
    _label(group, x, y + 11, f"{pdu.name} (feed {pdu.feed})", PANEL_W - (24 if pdu.findings else 0), font_weight="bold")
    if pdu.findings:
        _badge(group, pdu.findings, x + PANEL_W - 10, y + 7)
    for i, bar in enumerate(pdu.bars):
        _bar(group, bar, x, y + 18 * (i + 1))
    return y + 18 * (len(pdu.bars) + 1) + 10


def panel_height(pic: RackPicture) -> float:
    return sum(18 * (len(p.bars) + 1) + 10 for p in pic.pdus) + 18 * (len(pic.feeds) + 2)


FACES_X = (GUTTER, GUTTER * 2 + FACE_W)
PANEL_X = FACES_X[1] + FACE_W + GUTTER


def canvas_size(pic: RackPicture) -> tuple[int, int]:
    """The picture's width and height in px."""
    return PANEL_X + PANEL_W + 10, int(max(TOP + pic.u_height * U_PX, TOP + panel_height(pic)) + 20)


def render_svg(pic: RackPicture) -> str:
    """The elevation of one rack as an SVG document."""
    width, height = canvas_size(pic)
    panel_x = PANEL_X
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "class": "rack",
            "data-rack": xml_text(pic.name),
        },
    )
    _el(svg, "rect", x=0, y=0, width=width, height=height, fill="#ffffff")
    _label(
        svg,
        GUTTER,
        22,
        f"rack {pic.name} ({pic.site}), {pic.u_height}U",
        width - 2 * GUTTER,
        size=14,
        font_weight="bold",
    )
    for face, x in zip(("front", "rear"), FACES_X, strict=True):
        _face(svg, pic, face, x)
    panel = _el(svg, "g", class_="panel")
    _label(panel, panel_x, TOP - 8, "PDUs (normal / feed lost / derated limit)", PANEL_W, font_weight="bold")
    y = float(TOP)
    for pdu in pic.pdus:
        y = _pdu(panel, pdu, panel_x, y)
    _label(panel, panel_x, y + 11, "feeds", PANEL_W, font_weight="bold")
    for i, feed in enumerate(pic.feeds):
        _bar(panel, feed, panel_x, y + 18 * (i + 1))
    return ET.tostring(svg, encoding="unicode", xml_declaration=True) + "\n"
