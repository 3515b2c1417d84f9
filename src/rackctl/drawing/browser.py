"""Headless Chromium (Debian's `chromium` package) as the SVG renderer: screenshots and rendered DOMs.

A throwaway profile per run, so runs never share state or lock each other out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rackctl.errors import ConfigError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DEADLINE_S = 120  # a cold start on a loaded 2-core machine; a normal run takes about a second


def browser() -> str:
    """The path of the first headless-capable browser on PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "no SVG renderer found: rendering PNG needs headless Chromium",
        hint="install Debian's chromium package (scripts/install-deps --test), or use --svg alone",
    )


def _flags(profile: Path) -> list[str]:
    flags = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--force-device-scale-factor=1"]
    # NOTE(chromium): it refuses to start as root with its sandbox on; it only opens the file we just wrote.
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    return [*flags, f"--user-data-dir={profile}"]


def run_headless(page: Path, *args: str) -> str:
    """Run the browser on a local `page` with extra `args`; its stdout (e.g. the DOM for --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="rackctl-browser-") as profile:
        try:
            done = subprocess.run(
                [browser(), *_flags(Path(profile)), *args, page.resolve().as_uri()],
                capture_output=True,
                text=True,
                timeout=DEADLINE_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ConfigError(f"the browser did not render {page} within {DEADLINE_S} s") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ConfigError(f"the browser could not render {page}: {tail}")
    return done.stdout


def screenshot(svg: Path, png: Path, width: int, height: int) -> None:
    """Render the SVG file `svg` at its own size into `png`."""
    run_headless(svg, f"--screenshot={png.resolve()}", f"--window-size={width},{height}")
    if not png.is_file():
        raise ConfigError(f"the browser wrote no picture to {png}")
