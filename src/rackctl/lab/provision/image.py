"""The Debian base image every target is an overlay copy of, built once with debootstrap and cached."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from rackctl.errors import ConfigError

SUITE = "bookworm"
# What a provisioned node needs before Ansible arrives, plus what the roles expect a server image to have.
INCLUDE = "python3,python3-apt,systemd,systemd-sysv,dbus,kmod,iproute2,netplan.io,sudo,gnupg,udev,chrony,procps"


def cache_dir() -> Path:
    """Where images are kept between runs (RACKCTL_LAB_CACHE, default /var/cache/rackctl-lab)."""
    return Path(os.environ.get("RACKCTL_LAB_CACHE", "/var/cache/rackctl-lab"))


def host_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt already uses, so the image comes from the same place."""
    texts = [p.read_text() for p in sorted(sources.glob("sources.list.d/*.sources"))]
    legacy = sources / "sources.list"
    if legacy.is_file():
        texts.append(legacy.read_text())
    for text in texts:
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.MULTILINE):
            uri = match.group(1)
            if "security" not in uri and uri.startswith(("http://", "https://", "file:")):
                return uri
    raise ConfigError("no Debian mirror found in /etc/apt", hint="set RACKCTL_LAB_MIRROR to a Debian mirror URL")


def base_image() -> Path:
    """The cached image folder, debootstrapped on first use (about a minute)."""
    key = hashlib.sha256(f"{SUITE} {INCLUDE}".encode()).hexdigest()[:12]
    image = cache_dir() / f"{SUITE}-{key}"
    if (image / "usr/bin/python3").exists():
        return image
    if shutil.which("debootstrap") is None:
        raise ConfigError("debootstrap is not installed", hint="scripts/install-deps --test installs it")
    mirror = os.environ.get("RACKCTL_LAB_MIRROR") or host_mirror()
    partial = image.with_name(image.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    command = ["debootstrap", "--variant=minbase", f"--include={INCLUDE}", SUITE, str(partial), mirror]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"debootstrap failed: {done.stderr.strip()[-400:] or done.stdout.strip()[-400:]}")
    partial.rename(image)
    return image
