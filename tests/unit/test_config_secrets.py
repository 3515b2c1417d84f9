"""Settings from a TOML file and the environment; secret references and the Secret value type."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rackctl.config import Settings, load_settings
from rackctl.errors import ConfigError
from rackctl.secrets import check_reference, resolve
from rackctl.types import Endpoint, Secret


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", env={"HOME": str(tmp_path)})
    assert settings == Settings(source="defaults")
    assert settings.workers == 64 and settings.timeout == 10.0 and settings.retries == 1
    assert settings.resolved_db_url.startswith("sqlite:///") and settings.resolved_db_url.endswith("inventory.db")


def test_file_values_are_read_and_typed(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        'db_url = "postgresql+psycopg://rackctl@db/inv"\nworkers = 16\ntimeout = 2.5\n'
        'template_dirs = ["/srv/templates", "/opt/t"]\nstate_dir = "/var/lib/rackctl"\n',
    )
    settings = load_settings(path, env={})
    assert settings.source == str(path)
    assert settings.resolved_db_url == "postgresql+psycopg://rackctl@db/inv"
    assert (settings.workers, settings.timeout) == (16, 2.5)
    assert settings.template_dirs == ("/srv/templates", "/opt/t")
    assert settings.resolved_state_dir == Path("/var/lib/rackctl")


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = _config(tmp_path, 'db_url = "sqlite:////from/file.db"\nworkers = 16\n')
    env = {
        "RACKCTL_DB_URL": "sqlite:////from/env.db",
        "RACKCTL_WORKERS": "4",
        "RACKCTL_TEMPLATE_DIRS": os.pathsep.join(["/a", "/b"]),
        "RACKCTL_RETRIES": "",  # empty means unset
    }
    settings = load_settings(path, env=env)
    assert settings.db_url == "sqlite:////from/env.db"
    assert settings.workers == 4 and settings.retries == 1
    assert settings.template_dirs == ("/a", "/b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workers = -1\n", "'workers' must not be negative"),
        ('timeout = "soon"\n', "'timeout' must be float, got 'soon'"),
        ("colour = 'red'\n", "unknown setting 'colour'"),
        ("template_dirs = 5\n", "'template_dirs' must be a list of paths"),
        ("template_dirs = [1, 2]\n", "'template_dirs' must be a list of paths"),
        ("workers = \n", "config.toml"),
    ],
)
def test_bad_file_values_are_config_errors_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RACKCTL_WORKERS", "many", "RACKCTL_WORKERS: 'workers' must be int, got 'many'"),
        ("RACKCTL_TIMEOUT", "-3", "RACKCTL_TIMEOUT: 'timeout' must not be negative"),
    ],
)
def test_bad_environment_values_are_config_errors(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path / "absent.toml", env={name: value})


def test_unknown_setting_hint_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, "wrokers = 3\n"), env={})
    assert caught.value.hint is not None and "workers" in caught.value.hint


# Secrets


def test_env_reference_resolves_at_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACKCTL_TEST_BMC_PASSWORD", "s3cret-value")
    secret = resolve("env:RACKCTL_TEST_BMC_PASSWORD")
    assert secret.value == "s3cret-value"
    assert "s3cret" not in repr(secret) and str(secret) == "***"


def test_file_reference_reads_the_first_line(secret_file: Callable[[str, str], str]) -> None:
    assert resolve(secret_file("bmc.pass", "first-line-secret\nsecond line")).value == "first-line-secret"
    assert resolve(secret_file("empty", "")).value == ""


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("env:RACKCTL_TEST_UNSET_VARIABLE", "environment variable RACKCTL_TEST_UNSET_VARIABLE is not set"),
        ("file:{dir}/absent", "No such file or directory"),
    ],
)
def test_unresolvable_references_are_config_errors(ref: str, message: str, secret_dir: Path) -> None:
    os.environ.pop("RACKCTL_TEST_UNSET_VARIABLE", None)
    with pytest.raises(ConfigError, match=message):
        resolve(ref.format(dir=secret_dir))


@pytest.mark.parametrize("ref", ["env:RACKCTL_BMC_PASSWORD", "file:/etc/rackctl/bmc.pass", "cred:bmc-password"])
def test_well_formed_references_are_accepted(ref: str) -> None:
    assert check_reference(ref) == ref


@pytest.mark.parametrize(
    "literal", ["hunter2", "P@ssw0rd!", "env:", "env:1BAD", "file:relative/path", "vault:secret/bmc", "cred:a/b", ""]
)
def test_literal_secrets_are_refused_without_echoing_them(literal: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_reference(literal, "devices.4.management.credential")
    message = str(caught.value)
    assert "is not a secret reference" in message and message.startswith("devices.4.management.credential")
    assert caught.value.hint is not None and "env:NAME" in caught.value.hint and "cred:NAME" in caught.value.hint
    secret_part = literal.split(":", 1)[-1]
    assert len(secret_part) < 3 or secret_part not in message
    with pytest.raises(ConfigError):
        resolve(literal)


def test_secret_and_endpoint_reprs_hide_the_value() -> None:
    secret = Secret("correct horse battery staple")
    endpoint = Endpoint(name="gpu-r12-u03", address="10.200.0.14", username="admin", password=secret)
    for text in (repr(secret), str(secret), repr(endpoint), str(endpoint), f"{endpoint}"):
        assert "horse" not in text
    assert secret == Secret("correct horse battery staple") and secret.value.startswith("correct")
