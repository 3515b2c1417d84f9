"""The name rule itself: what it accepts (every name the shipped templates, device types and recorded
NetBox files use) and what it refuses, and the properties that make an accepted name safe to pass on."""

from __future__ import annotations

import posixpath
import shlex
import string

import pytest
from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet
from hostile import HOSTILE, HOSTILE_TEXT
from hypothesis import given
from hypothesis import strategies as st

from rackctl.errors import ValidationError
from rackctl.inventory.names import check_address, check_interface, check_name, check_text, check_token, is_name

ACCEPTED_NAMES = ["gpu-r12-u03", "r12", "p1a", "fra1", "h100-inference", "leaf-r12-a", "n001.example", "A_1", "7"]
ACCEPTED_INTERFACES = ["Ethernet1/1", "Ethernet29/1", "swp1s0", "ens1f0np0", "eth0.100", "1/1/1", "bond0", "mgmt0"]
ACCEPTED_TOKENS = ["SN-0001", "570.133.20", "meta-llama/Llama-3.1-405B-Instruct-FP8", "802.3ad", "admin@corp"]


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_accepts_ordinary_names(name: str) -> None:
    assert check_name(name, "name") == name and is_name(name)


@pytest.mark.parametrize("name", ACCEPTED_INTERFACES)
def test_accepts_interface_names_of_every_platform(name: str) -> None:
    assert check_interface(name, "interface") == name


@pytest.mark.parametrize("token", ACCEPTED_TOKENS)
def test_accepts_versions_serials_and_model_paths(token: str) -> None:
    assert check_token(token, "field") == token


@pytest.mark.parametrize("name", list(HOSTILE), ids=[f"{n!a}"[:30] for n in HOSTILE])
def test_refuses_every_attack_case_in_one_escaped_line(name: str) -> None:
    for check in (check_name, check_interface):
        with pytest.raises(ValidationError) as caught:
            check(name, "rack name")
        message = str(caught.value)
        assert message.startswith("rack name ") and " refused: " in message
        assert message.isprintable() and message.isascii(), message  # no newline, escape or look-alike shown raw


def test_an_interface_name_may_hold_a_slash_but_a_name_may_not() -> None:
    with pytest.raises(ValidationError, match=r"character '/' \(U\+002F SOLIDUS\) is not allowed in names"):
        check_name("Ethernet1/1", "device name")


def test_the_reason_names_the_look_alike() -> None:
    with pytest.raises(ValidationError, match="U\\+0440 CYRILLIC SMALL LETTER ER"):
        check_name("gpu-\u04401", "device name")


@pytest.mark.parametrize("text", list(HOSTILE_TEXT), ids=[f"{t!a}"[:30] for t in HOSTILE_TEXT])
def test_free_text_refuses_control_and_invisible_characters(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_text(text, "--reason")
    assert str(caught.value).isprintable()


def test_free_text_takes_printable_unicode() -> None:
    assert check_text("cage 2 — 'north' (Zürich)", "--description") == "cage 2 — 'north' (Zürich)"


@pytest.mark.parametrize("address", ["10.0.0.12", "fe80::1%eth0", "bmc-r12-u03.example.net", "localhost", ""])
def test_management_addresses(address: str) -> None:
    assert check_address(address, "--mgmt-address") == address


names = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=63).filter(is_name)


@given(names)
def test_an_accepted_name_is_one_node_one_shell_word_and_stays_in_its_folder(name: str) -> None:
    assert list(NodeSet(name, resolver=RESOLVER_NOGROUP)) == [name]
    assert shlex.quote(name) == name and shlex.split(name) == [name]
    assert posixpath.dirname(posixpath.normpath(posixpath.join("/backups", name))) == "/backups"


@given(st.text(max_size=80))
def test_anything_the_rule_accepts_is_plain_ascii_without_syntax(text: str) -> None:
    if is_name(text):
        assert set(text) <= set(string.ascii_letters + string.digits + "._-")
        assert ".." not in text and text[0].isalnum() and text[-1].isalnum()


def test_text_rackctl_composes_from_tool_output_becomes_one_acceptable_line() -> None:
    from rackctl.inventory.names import check_text, one_line

    composed = one_line("provision: Gathering Facts: unreachable: ssh: connect\r\nrefused\x1b[0m\u202e", 60)
    assert check_text(composed, "reason") == composed
    assert composed == "provision: Gathering Facts: unreachable: ssh: connect refused"[:60]
