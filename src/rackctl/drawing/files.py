"""Write a rack's elevation to the files the technician asked for."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rackctl.drawing.browser import screenshot
from rackctl.drawing.picture import RackPicture
from rackctl.drawing.svg import canvas_size, render_svg
from rackctl.errors import ConfigError


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc


def write_elevation(picture: RackPicture, svg: Path | None, png: Path | None) -> list[Path]:
    """Draw `picture` into `svg` and/or `png` (PNG through headless Chromium); the files written."""
    text = render_svg(picture)
    written = []
    if svg is not None:
        _write(svg, text)
        written.append(svg)
    if png is not None:
        with tempfile.TemporaryDirectory(prefix="rackctl-svg-") as scratch:
            source = svg if svg is not None else Path(scratch) / "rack.svg"
            if svg is None:
                _write(source, text)
            screenshot(source, png, *canvas_size(picture))
        written.append(png)
    return written
