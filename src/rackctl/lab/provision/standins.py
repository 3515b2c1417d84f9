"""Stand-ins for NVIDIA's packages, built with dpkg-deb into flat apt repositories signed with a throwaway key.

One repository per place the real package comes from (Ubuntu's archive per release, NVIDIA's CUDA, DOCA and
libnvidia-container repositories, a site repository), so a role that configures the wrong repository, or none,
fails here as it would on a real node. The definitions live next to the pins (playbooks/packaging/standins.yml)
and are checked against NVIDIA's published facts (nvidia-facts.yml) by the tests.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rackctl.errors import ConfigError
from rackctl.lab.provision.kmod import module_file
from rackctl.paths import shipped_dir

KEY_FILE = "standin-archive-keyring.gpg"
UBUNTU_RELEASES = ("22.04", "24.04")


@dataclass(frozen=True)
class Standin:
    """One version of one stand-in package, placeholders filled."""

    name: str
    repo: str
    upstream: str
    version: str
    depends: tuple[str, ...]
    files: dict[str, Any]
    values: dict[str, str] = field(default_factory=dict)


def packaging_dir() -> Path:
    return shipped_dir("playbooks") / "packaging"


def load(path: Path | None = None) -> dict[str, Any]:
    """standins.yml as data."""
    data: dict[str, Any] = yaml.safe_load((path or packaging_dir() / "standins.yml").read_text())
    return data


def repo_name(repo: str, distver: str) -> str:
    """The folder a package's repository is built in: ubuntu-22.04 for Ubuntu's archive, else the repo name."""
    return f"ubuntu-{distver}" if repo == "ubuntu" else repo


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _version(spec: dict[str, Any], upstream: str, values: dict[str, str]) -> str:
    version = f"{spec['epoch']}:{upstream}" if spec.get("epoch") else upstream
    return version + (f"-{_fill(str(spec['revision']), values)}" if spec.get("revision") else "")


def _expand(spec: dict[str, Any], entry: Any, base: dict[str, str]) -> Standin:
    extra = {k: str(v) for k, v in entry.items()} if isinstance(entry, dict) else {"upstream": str(entry)}
    values = {**base, **extra}
    values["version"] = _version(spec, values["upstream"], values)
    files = {_fill(path, values): body for path, body in (spec.get("files") or {}).items() if _ships(body, values)}
    return Standin(
        name=_fill(spec["name"], values),
        repo=repo_name(spec["repo"], values["distver"]),
        upstream=values["upstream"],
        version=values["version"],
        depends=tuple(_fill(d, values) for d in spec.get("depends", ())),
        files=files,
        values=values,
    )


def _ships(body: dict[str, Any], values: dict[str, str]) -> bool:
    since = body.get("since")
    return since is None or _numeric(values["upstream"]) >= _numeric(str(since))


def _numeric(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.replace("-", ".").split(".") if p.isdigit())


def definitions(path: Path | None = None) -> list[Standin]:
    """Every version of every stand-in package, Ubuntu's archive ones once per Ubuntu release."""
    data = load(path)
    found = []
    for spec in data["packages"]:
        releases = UBUNTU_RELEASES if spec["repo"] == "ubuntu" else UBUNTU_RELEASES[:1]
        for distver in releases:
            base = {"kernel": str(data["kernel"]), "distver": distver}
            found += [_expand(spec, entry, base) for entry in spec["upstreams"]]
    return found


def _file_body(spec: dict[str, Any], package: Standin, scripts: Path) -> bytes:
    if "script" in spec:
        return (scripts / spec["script"]).read_text().replace("@UPSTREAM@", package.upstream).encode()
    if "ko" in spec:
        return module_file({k: _fill(str(v), package.values) for k, v in spec["ko"].items()})
    return _fill(str(spec["text"]), package.values).encode()


def _executable(target: str, body: bytes) -> bool:
    return "/bin/" in target or "/sbin/" in target or target.startswith("/etc/init.d/") or body.startswith(b"#!")


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
            body = _file_body(spec, package, scripts)
            path.write_bytes(body)
            path.chmod(0o755 if _executable(target, body) else 0o644)
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
    lines = ["Origin: rackctl-standin", f"Label: {repo.name}", "Suite: ./", "Codename: standin", "SHA256:"]
    for name in ("Packages", "Packages.gz"):
        data = (repo / name).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}")
    return "\n".join(lines) + "\n"


def _index(repo: Path, debs: list[Path]) -> None:
    packages = "\n".join(_stanza(deb, repo) for deb in debs)
    (repo / "Packages").write_text(packages)
    (repo / "Packages.gz").write_bytes(gzip.compress(packages.encode()))
    (repo / "Release").write_text(_release(repo))


def _sign(root: Path, repos: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GNUPGHOME": home}
        gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
        user = "rackctl stand-in archive <root@localhost>"
        _run([*gpg, "--quick-gen-key", user, "ed25519", "sign", "never"], env=env)
        _run([*gpg, "--output", str(root / KEY_FILE), "--export"], env=env)
        for repo in repos:
            _run([*gpg, "--clearsign", "--output", str(repo / "InRelease"), str(repo / "Release")], env=env)


def build_repo(root: Path, definitions_file: Path | None = None) -> Path:
    """Build every stand-in into `root/<repository>/` as signed flat repositories (`deb [signed-by=..] file:DIR ./`)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # apt reads the repositories as its unprivileged _apt user
    scripts = (definitions_file.parent if definitions_file else packaging_dir()) / "standins"
    by_repo: dict[str, list[Path]] = {}
    for package in definitions(definitions_file):
        folder = root / package.repo
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
        by_repo.setdefault(package.repo, []).append(build_deb(package, folder, scripts))
    for name, debs in by_repo.items():
        _index(root / name, debs)
    _sign(root, [root / name for name in by_repo])
    return root
