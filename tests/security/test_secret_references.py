"""Secret references from the inventory cannot reach what is not meant as a secret for rackctl.

Whoever can write the inventory chooses references, and rackctl sends what they resolve to (as a BMC
password) to an address of that writer's choice: a reference to /etc/shadow, a symlink out of the secret
folder, $HOME or RACKCTL_DB_URL would leak them. Each case here was accepted before the fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from rackctl.config import load_settings
from rackctl.errors import ConfigError
from rackctl.secrets import check_reference, deferred, resolve, write_reference
from rackctl.types import Secret

SecretFile = Callable[[str, str], str]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A readable, owner-only file that is not in a secret folder."""
    path = tmp_path / "not-a-secret"
    path.write_text("private-data\n")
    path.chmod(0o600)
    return path


def refused(ref: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(ref)
    assert message in str(caught.value)
    assert "private-data" not in str(caught.value)


def test_files_outside_the_secret_folders_are_refused(outside: Path) -> None:
    refused(f"file:{outside}", "outside the secret folders")
    refused("file:/etc/passwd", "outside the secret folders")


def test_dot_dot_cannot_climb_out(secret_dir: Path, outside: Path) -> None:
    relative = os.path.relpath(outside, secret_dir)
    refused(f"file:{secret_dir}/{relative}", "no '..'")


def test_a_symlink_cannot_lead_out(secret_dir: Path, outside: Path) -> None:
    link = secret_dir / "leads-out"
    link.symlink_to(outside)
    refused(f"file:{link}", "a link leads out of them")


def test_only_owner_only_regular_files_of_this_user_are_read(secret_dir: Path, secret_file: SecretFile) -> None:
    ref = secret_file("loose", "value")
    Path(ref.removeprefix("file:")).chmod(0o644)
    refused(ref, "may be read by others (mode 0644)")
    theirs = secret_file("theirs", "value")
    os.chown(theirs.removeprefix("file:"), 65534, 65534)  # nobody's file, even if we may read it as root
    refused(theirs, "belongs to another user")
    (secret_dir / "folder").mkdir(mode=0o700, exist_ok=True)
    refused(f"file:{secret_dir / 'folder'}", "not a regular file")


def test_a_fifo_is_refused_at_once(secret_dir: Path) -> None:
    fifo = secret_dir / "stalls"
    if not fifo.exists():
        os.mkfifo(fifo, 0o600)
    refused(f"file:{fifo}", "not a regular file")  # before: blocked forever waiting for a writer


def test_files_over_the_size_cap_are_refused(secret_file: SecretFile, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = secret_file("large", "x" * 200)
    monkeypatch.setenv("RACKCTL_SECRET_MAX_BYTES", "100")
    refused(ref, "larger than 100 bytes")


@pytest.mark.parametrize("name", ["HOME", "PATH", "RACKCTL_DB_URL", "RACKCTL_CONFIG", "AWS_SECRET_ACCESS_KEY"])
def test_environment_references_need_the_prefix_and_are_never_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "private-data")
    refused(f"env:{name}", "only environment variables named RACKCTL_*")
    with pytest.raises(ConfigError):
        check_reference(f"env:{name}", "--mgmt-credential")  # refused where it is written, too


def test_the_prefix_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_BMC_PASSWORD", "value")
    monkeypatch.setenv("RACKCTL_SECRET_ENV_PREFIX", "SITE_")
    assert resolve("env:SITE_BMC_PASSWORD").value == "value"


def test_the_default_secret_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RACKCTL_SECRET_DIRS")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = load_settings(tmp_path / "absent.toml")
    assert settings.resolved_secret_dirs == (tmp_path / "rackctl" / "secrets", Path("/etc/rackctl/secrets"))


@pytest.mark.parametrize(
    "ref",
    [
        "file:/etc/rackctl/secrets/x\n",
        "file:/etc/rackctl/secrets/x\nenv:HOME",
        "env:RACKCTL_X$(id)",
        "env:RACKCTL_X`id`",
        "env:RACKCTL_X Y",
        "cred:../etc/shadow",
        "cred:a/b",
        "cred:a b",
        "cred:bmc\u2024password",  # a one-dot leader, not a full stop
        "env:RACKCTL_\u0392MC",  # a Greek capital beta, not a B
        "file:" + "/x" * 600,
    ],
    ids=lambda ref: repr(ref[:40]),
)
def test_hostile_references_are_refused_where_they_are_written(ref: str) -> None:
    with pytest.raises(ConfigError):
        check_reference(ref, "credential")


def test_cli_refuses_a_reference_outside_the_rules(cli: Callable[..., object]) -> None:
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0  # type: ignore[attr-defined]
    result = cli("device", "set", "gpu-r12-u03", "--mgmt-credential", "env:HOME")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "only environment variables named RACKCTL_*" in result.stderr  # type: ignore[attr-defined]


def test_systemd_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outside: Path) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    refused("cred:bmc-password", "$CREDENTIALS_DIRECTORY is not set")
    store = tmp_path / "credentials"
    store.mkdir(mode=0o700)
    (store / "bmc-password").write_text("from-systemd\n")
    (store / "bmc-password").chmod(0o400)  # as systemd hands them over
    (store / "out").symlink_to(outside)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(store))
    assert resolve("cred:bmc-password").value == "from-systemd"
    refused("cred:out", "a link leads out of them")


def test_references_are_read_at_use_not_when_the_endpoint_is_made(secret_dir: Path) -> None:
    secret = deferred(f"file:{secret_dir}/written-later")
    path = secret_dir / "written-later"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"late\n")
    os.close(fd)
    assert secret.value == "late"
    assert "late" not in repr(secret) and str(secret) == "***"


def test_write_reference_replaces_the_file_atomically_owner_only(secret_dir: Path, secret_file: SecretFile) -> None:
    ref = secret_file("rotated", "old-password")
    path = Path(ref.removeprefix("file:"))
    old = os.umask(0)  # even with no umask at all, the secret is never readable by others
    try:
        write_reference(ref, "new-password")
    finally:
        os.umask(old)
    assert resolve(ref) == Secret("new-password")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in secret_dir.iterdir() if p.name.startswith(".rotated")]  # no temporary left


def test_write_reference_replaces_a_symlink_instead_of_writing_through_it(secret_dir: Path, outside: Path) -> None:
    link = secret_dir / "link-to-outside"
    link.symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the secret folders"):
        write_reference(f"file:{link}", "value")
    assert outside.read_text() == "private-data\n"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("env:RACKCTL_BMC_PASSWORD", "only file: references can be written"),
        ("cred:bmc-password", "only file: references can be written"),
        ("file:/tmp/rackctl-not-a-secret-folder/x", "outside the secret folders"),
    ],
)
def test_write_reference_refuses_what_it_cannot_write(ref: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        write_reference(ref, "value")


def test_write_reference_refuses_line_breaks(secret_file: SecretFile) -> None:
    with pytest.raises(ConfigError, match="one line"):
        write_reference(secret_file("one-line", "old"), "new\nsecond")


def test_a_reference_naming_a_folder_is_refused_before_anything_is_written(secret_dir: Path) -> None:
    folder = secret_dir / "not-a-file"
    folder.mkdir()
    with pytest.raises(ConfigError, match="it names a folder, not a file"):
        write_reference(f"file:{folder}", "value")
    assert folder.is_dir() and not list(folder.iterdir())
