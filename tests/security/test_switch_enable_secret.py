"""The login password is not the enable secret unless the endpoint says so (it was always sent as both)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rackctl.services.endpoints import ssh_endpoint
from rackctl.types import Secret


@pytest.fixture
def login(secret_file: Callable[[str, str], str]) -> str:
    return secret_file("switch-login", "login-password")


def test_no_enable_secret_unless_one_is_named(login: str) -> None:
    endpoint = ssh_endpoint("leaf-r1-a", "10.0.0.2", 22, "admin", login, {})
    assert endpoint.password == Secret("login-password")
    assert "enable_secret" not in endpoint.options


def test_an_enable_secret_of_its_own(login: str, secret_file: Callable[[str, str], str]) -> None:
    enable = secret_file("switch-enable", "enable-password")
    endpoint = ssh_endpoint("leaf-r1-a", "10.0.0.2", 22, "admin", login, {"enable_ref": enable})
    assert endpoint.options["enable_secret"] == Secret("enable-password")
    assert "enable_ref" not in endpoint.options


def test_the_login_password_only_when_the_endpoint_says_so(login: str) -> None:
    said = ssh_endpoint("leaf-r1-a", "10.0.0.2", 22, "admin", login, {"enable_uses_login": True})
    assert said.options["enable_secret"] == Secret("login-password")
    vague = ssh_endpoint("leaf-r1-a", "10.0.0.2", 22, "admin", login, {"enable_uses_login": "yes"})
    assert "enable_secret" not in vague.options


def test_the_inventory_cannot_smuggle_a_literal_enable_secret(login: str) -> None:
    endpoint = ssh_endpoint("leaf-r1-a", "10.0.0.2", 22, "admin", login, {"enable_secret": "literal"})
    assert "enable_secret" not in endpoint.options
