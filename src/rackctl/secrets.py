"""Secret references: what the inventory stores instead of secrets, and the only code that reads them.

    env:NAME     an environment variable whose name starts with the `secret_env_prefix` setting (RACKCTL_),
                 never one of rackctl's own settings (RACKCTL_DB_URL holds a database password)
    file:/PATH   the first line of a regular file inside one of the `secret_dirs` settings, owner-only
                 (no group or other permission bits), owned by this user or root, at most `secret_max_bytes`;
                 neither the path nor a symlink on it may lead out of those folders
    cred:NAME    a systemd credential: $CREDENTIALS_DIRECTORY/NAME (`LoadCredential=` in the unit), same checks

Anyone who can write the inventory chooses references, so a reference must never reach a file or variable
that is not meant as a secret for rackctl. References are resolved only at use: `deferred` returns a Secret
read by whichever worker first needs it, inside that target's deadline, so a stalled path costs one target
its timeout and nothing more. Files are opened non-blocking and checked with fstat before any read, so a
FIFO is refused at once instead of blocking. `write_reference` rewrites a `file:` secret atomically (0600).
"""

from __future__ import annotations

import os
import re
import secrets as token
import stat
from dataclasses import fields
from functools import partial
from pathlib import Path

from rackctl.config import Settings, load_settings
from rackctl.errors import ConfigError
from rackctl.types import Secret

CREDENTIAL_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.@-]*"  # a systemd credential's name: no path, no spaces
_REF = re.compile(rf"env:(?P<env>[A-Za-z_][A-Za-z0-9_]*)|file:(?P<file>/[^\n\r]+)|cred:(?P<cred>{CREDENTIAL_NAME})")
MAX_REFERENCE = 512  # what the inventory's column holds
REFERENCE_OPTIONS = ("priv_ref", "enable_ref")  # endpoint options that hold references, not secrets
_HINT = "store env:NAME, file:/path or cred:NAME, never the secret itself"
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


def _parse(ref: str, where: str) -> tuple[str, str]:
    match = _REF.fullmatch(ref) if len(ref) <= MAX_REFERENCE else None
    if not match:
        raise ConfigError(f"{where}: '{_mask(ref)}' is not a secret reference", hint=_HINT)
    scheme = next(name for name in ("env", "file", "cred") if match.group(name))
    return scheme, match.group(scheme)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def _own_settings() -> frozenset[str]:
    names = {f"RACKCTL_{f.name.upper()}" for f in fields(Settings)}
    return frozenset(names | {"RACKCTL_CONFIG", "RACKCTL_TEST_DB_URL"})


def _check_env_name(name: str, ref: str, settings: Settings) -> None:
    prefix = settings.secret_env_prefix
    if not name.startswith(prefix) or name in _own_settings():
        raise ConfigError(
            f"secret reference {ref}: only environment variables named {prefix}* (not rackctl's settings) "
            "may hold secrets",
            hint="rename the variable, or change the secret_env_prefix setting",
        )


def _check_path_text(path: str, ref: str) -> None:
    if any(part in ("..", ".") for part in path.split("/")) or "//" in path or "\0" in path:
        raise ConfigError(f"secret reference {ref}: the path must be absolute and normalised (no '..', '.', '//')")


def check_reference(ref: str, where: str = "credential", settings: Settings | None = None) -> str:
    """Return `ref` if it is a reference rackctl may resolve; refuse literals and forbidden names at once."""
    scheme, rest = _parse(ref, where)
    try:
        if scheme == "env":
            _check_env_name(rest, ref, _settings(settings))
        elif scheme == "file":
            _check_path_text(rest, ref)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}", hint=exc.hint) from None
    return ref


def resolve(ref: str, settings: Settings | None = None) -> Secret:
    """Read the secret a reference points to, now."""
    return Secret(read_value(ref, settings))


def deferred(ref: str, settings: Settings | None = None) -> Secret:
    """A Secret that reads the reference when its value is first needed (inside the target's deadline).

    What can be known without touching a file is checked now, so a mistake is reported before any device
    is contacted: the form, the variable's name and presence, the credentials folder, the path's folder.
    """
    policy = _settings(settings)
    scheme, rest = _parse(ref, "secret reference")
    if scheme == "env":
        _check_env_name(rest, ref, policy)
        if rest not in os.environ:
            raise ConfigError(f"secret reference {ref}: environment variable {rest} is not set")
    elif scheme == "cred":
        _credentials_folder(ref)
    else:
        _check_path_text(rest, ref)
        if not any(_inside(Path(rest), folder) for folder in policy.resolved_secret_dirs):
            _allowed_path(Path(rest), policy.resolved_secret_dirs, ref)  # raises, naming the folders
    return Secret.deferred(partial(read_value, ref, policy))


def read_value(ref: str, settings: Settings | None = None) -> str:
    """The secret's text: the variable's value, or the file's first line."""
    scheme, rest = _parse(ref, "secret reference")
    policy = _settings(settings)
    if scheme == "env":
        _check_env_name(rest, ref, policy)
        if rest not in os.environ:
            raise ConfigError(f"secret reference {ref}: environment variable {rest} is not set")
        return os.environ[rest]
    if scheme == "cred":
        folder = _credentials_folder(ref)
        return _first_line(_read_file(folder / rest, (folder,), policy.secret_max_bytes, ref), ref)
    _check_path_text(rest, ref)
    return _first_line(_read_file(Path(rest), policy.resolved_secret_dirs, policy.secret_max_bytes, ref), ref)


def _credentials_folder(ref: str) -> Path:
    folder = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if not folder:
        raise ConfigError(
            f"secret reference {ref}: $CREDENTIALS_DIRECTORY is not set",
            hint="cred: references work under systemd units with LoadCredential=",
        )
    return Path(folder)


def _first_line(data: bytes, ref: str) -> str:
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ConfigError(f"secret reference {ref}: the file is not UTF-8 text") from None
    return lines[0] if lines else ""


def _inside(path: Path, folder: Path) -> bool:
    return path != folder and path.is_relative_to(folder)


def _allowed_path(path: Path, folders: tuple[Path, ...], ref: str) -> str:
    """The file's real path when both the path and where its symlinks lead stay inside one folder."""
    real = Path(os.path.realpath(path))
    for folder in folders:
        if not folder.is_absolute():
            raise ConfigError(f"secret folder '{folder}' is not an absolute path", hint="fix the secret_dirs setting")
        if _inside(path, folder) and _inside(real, Path(os.path.realpath(folder))):
            return str(real)
    shown = ", ".join(str(f) for f in folders)
    raise ConfigError(
        f"secret reference {ref}: the file is outside the secret folders ({shown}) or a link leads out of them",
        hint="keep secrets in a folder listed in the secret_dirs setting",
    )


def _read_file(path: Path, folders: tuple[Path, ...], max_bytes: int, ref: str) -> bytes:
    real = _allowed_path(path, folders, ref)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise ConfigError(f"secret reference {ref}: {exc.strerror}") from None
    try:
        _check_opened(os.fstat(fd), max_bytes, ref)
        data = os.read(fd, max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"secret reference {ref}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ConfigError(f"secret reference {ref}: the file is larger than {max_bytes} bytes")
    return data


def _check_opened(info: os.stat_result, max_bytes: int, ref: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"secret reference {ref}: not a regular file")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"secret reference {ref}: the file may be read by others (mode {stat.S_IMODE(info.st_mode):04o})",
            hint="chmod 600 the file: only its owner may read a secret",
        )
    if info.st_uid not in (os.geteuid(), 0):
        raise ConfigError(f"secret reference {ref}: the file belongs to another user (uid {info.st_uid})")
    if info.st_size > max_bytes:
        raise ConfigError(f"secret reference {ref}: the file is larger than {max_bytes} bytes")


def writable(ref: str, settings: Settings | None = None) -> Path:
    """The file behind a `file:` reference, if rackctl may rewrite it; refused before anything changes.

    Refuses `env:` and `cred:` references (they are set outside rackctl), paths outside `secret_dirs` (or
    led out of them by a link) and folders or files this user cannot write.
    """
    scheme, rest = _parse(ref, "secret reference")
    if scheme != "file":
        raise ConfigError(
            f"secret reference {ref}: only file: references can be written by rackctl",
            hint="point the endpoint at file:/path in a secret folder to let rackctl rewrite it",
        )
    _check_path_text(rest, ref)
    path = Path(rest)
    _allowed_path(path, _settings(settings).resolved_secret_dirs, ref)
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise ConfigError(f"secret reference {ref}: its folder cannot be written by this user")
    if path.is_dir():
        raise ConfigError(f"secret reference {ref}: it names a folder, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"secret reference {ref}: the file cannot be written by this user")
    return path


def write_reference(ref: str, value: str, settings: Settings | None = None) -> None:
    """Replace the secret behind a `file:` reference atomically, owner-only (0600) from its first byte.

    Refuses what `writable` refuses, and values holding a line break (a reference reads the first line).
    """
    if any(c in value for c in "\r\n\0"):
        raise ConfigError(f"secret reference {ref}: a secret must be one line")
    write_private(writable(ref, settings), value + "\n")


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` through a new 0600 file (O_EXCL, never chmod-ed after) renamed into place."""
    temporary = path.parent / f".{path.name}.{token.token_hex(6)}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_folder(path: Path) -> Path:
    """`path` as an owner-only (0700) folder: created so from the start, or an existing one of ours tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ConfigError(f"{path}: expected a folder of this user, not a link or another user's")
    if info.st_mode & 0o077:
        path.chmod(0o700)  # made before rackctl kept secrets in it: nothing else may look inside
    return path


def _mask(text: str) -> str:
    # Show the scheme-like prefix only, so a pasted password is not echoed back.
    return text.split(":", 1)[0] + ":…" if ":" in text else "…"
