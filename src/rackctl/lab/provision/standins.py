"""Stand-ins for NVIDIA's packages, built with dpkg-deb into a flat apt repository signed with a throwaway key.

The definitions live next to the pins (playbooks/packaging/standins.yml) so that a moved pin and the
harness's idea of NVIDIA's packaging are reviewed together.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rackctl.errors import ConfigError
from rackctl.paths import shipped_dir

KEY_FILE = "standin-archive-keyring.gpg"


@dataclass(frozen=True)
class Standin:
    """One version of one stand-in package."""

    name: str
    upstream: str
    version: str
    depends: tuple[str, ...]
    files: dict[str, Any]


def packaging_dir() -> Path:
    return shipped_dir("playbooks") / "packaging"


def definitions(path: Path | None = None) -> list[Standin]:
    """Every version of every stand-in package defined in standins.yml."""
    data = yaml.safe_load((path or packaging_dir() / "standins.yml").read_text())
    found = []
    for spec in data["packages"]:
        for upstream in spec["upstreams"]:
            version = f"{spec['epoch']}:{upstream}" if spec.get("epoch") else upstream
            version += f"-{spec['revision']}" if spec.get("revision") else ""
            depends = tuple(d.replace("{version}", version) for d in spec.get("depends", ()))
            found.append(Standin(spec["name"], upstream, version, depends, spec.get("files") or {}))
    return found


def _file_body(spec: dict[str, Any], package: Standin, scripts: Path) -> str:
    if "script" in spec:
        return (scripts / spec["script"]).read_text().replace("@UPSTREAM@", package.upstream)
    return str(spec["text"]).replace("{upstream}", package.upstream).replace("{version}", package.version)


def build_deb(package: Standin, out: Path, scripts: Path) -> Path:
    """One .deb with the package's control data and files (scripts executable)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        control = [
            f"Package: {package.name}",
            f"Version: {package.version}",
            "Architecture: amd64",
            "Maintainer: rackctl test harness <root@localhost>",
            f"Description: stand-in for {package.name} (rackctl test harness)",
        ]
        if package.depends:
            control.append("Depends: " + ", ".join(package.depends))
        (root / "DEBIAN/control").write_text("\n".join(control) + "\n")
        for target, spec in package.files.items():
            path = root / target.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_file_body(spec, package, scripts))
            path.chmod(0o755 if "/bin/" in target or "/sbin/" in target else 0o644)
        deb = out / f"{package.name}_{package.version.replace(':', '%3a')}_amd64.deb"
        _run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)])
    return deb


def _run(command: list[str], **kwargs: Any) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise ConfigError(f"{command[0]} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def _stanza(deb: Path, repo: Path) -> str:
    control = _run(["dpkg-deb", "--field", str(deb)]).strip()
    data = deb.read_bytes()
    return (
        f"{control}\nFilename: ./{deb.relative_to(repo)}\nSize: {len(data)}\n"
        f"MD5sum: {hashlib.md5(data).hexdigest()}\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
    )


def _release(repo: Path) -> str:
    lines = ["Origin: rackctl-standin", "Label: rackctl-standin", "Suite: ./", "Codename: standin", "SHA256:"]
    for name in ("Packages", "Packages.gz"):
        data = (repo / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    return "\n".join(lines) + "\n"


def _sign(repo: Path) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GNUPGHOME": home}
        gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
        user = "rackctl stand-in archive <root@localhost>"
        _run([*gpg, "--quick-gen-key", user, "ed25519", "sign", "never"], env=env)
        _run([*gpg, "--output", str(repo / KEY_FILE), "--export"], env=env)
        _run([*gpg, "--clearsign", "--output", str(repo / "InRelease"), str(repo / "Release")], env=env)


def build_repo(repo: Path, definitions_file: Path | None = None) -> Path:
    """Build every stand-in into `repo` as a signed flat repository (`deb [signed-by=...] file:REPO ./`)."""
    repo.mkdir(parents=True, exist_ok=True)
    repo.chmod(0o755)  # apt reads the repository as its unprivileged _apt user
    scripts = (definitions_file.parent if definitions_file else packaging_dir()) / "standins"
    debs = [build_deb(p, repo, scripts) for p in definitions(definitions_file)]
    packages = "\n".join(_stanza(deb, repo) for deb in debs)
    (repo / "Packages").write_text(packages)
    (repo / "Packages.gz").write_bytes(gzip.compress(packages.encode()))
    (repo / "Release").write_text(_release(repo))
    _sign(repo)
    return repo
