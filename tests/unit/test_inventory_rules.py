"""Pure rules of the inventory: lifecycle transitions, NetBox interface types, MACs, CSV parsing."""

from __future__ import annotations

import itertools

import pytest

from rackctl.errors import ValidationError
from rackctl.inventory.csvimport import normalise_mac, parse_csv
from rackctl.inventory.devicetypes import classify_interface
from rackctl.types import BRINGUP_ORDER, InterfaceKind, NodeState, transition_allowed

S = NodeState


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.PLANNED, S.RACKED, True),
        (S.RACKED, S.CABLED, True),
        (S.VALIDATED, S.IN_SERVICE, True),
        (S.PLANNED, S.CABLED, False),  # skips racked
        (S.RACKED, S.IN_SERVICE, False),
        (S.PROVISIONED, S.CABLED, True),  # back to redo a step
        (S.IN_SERVICE, S.PLANNED, True),
        (S.IN_SERVICE, S.MAINTENANCE, True),
        (S.PLANNED, S.FAILED, True),
        (S.FAILED, S.POWERED, True),  # repaired, bring-up resumes anywhere
        (S.MAINTENANCE, S.IN_SERVICE, True),
        (S.MAINTENANCE, S.FAILED, True),
        (S.DECOMMISSIONED, S.RACKED, False),
        (S.DECOMMISSIONED, S.IN_SERVICE, False),
        (S.DECOMMISSIONED, S.PLANNED, True),
        (S.CABLED, S.CABLED, False),
    ],
)
def test_transition_allowed(current: NodeState, target: NodeState, allowed: bool) -> None:
    assert transition_allowed(current, target) is allowed


def test_bring_up_is_a_chain_of_single_steps() -> None:
    for before, after in itertools.pairwise(BRINGUP_ORDER):
        assert transition_allowed(before, after)
    for state in S:
        assert transition_allowed(state, S.DECOMMISSIONED) is (state != S.DECOMMISSIONED)


@pytest.mark.parametrize(
    ("netbox_type", "mgmt_only", "kind", "speed"),
    [
        ("1000base-t", False, InterfaceKind.ETHERNET, 1000),
        ("1000base-t", True, InterfaceKind.BMC, 1000),
        ("100base-tx", True, InterfaceKind.BMC, 100),
        ("10gbase-t", False, InterfaceKind.ETHERNET, 10_000),
        ("25gbase-x-sfp28", False, InterfaceKind.ETHERNET, 25_000),
        ("100gbase-x-qsfp28", False, InterfaceKind.ETHERNET, 100_000),
        ("400gbase-x-qsfp112", False, InterfaceKind.ETHERNET, 400_000),
        ("400gbase-x-osfp", False, InterfaceKind.ETHERNET, 400_000),  # an IB switch's cages: fixed by an override
        ("2.5gbase-t", False, InterfaceKind.ETHERNET, 2500),
        ("infiniband-ndr", False, InterfaceKind.INFINIBAND, 400_000),
        ("infiniband-hdr", False, InterfaceKind.INFINIBAND, 200_000),
        ("infiniband-fdr10", False, InterfaceKind.INFINIBAND, 40_000),
        ("infiniband-gdr", False, InterfaceKind.INFINIBAND, None),
        ("lag", False, InterfaceKind.BOND, None),
        ("virtual", False, InterfaceKind.ETHERNET, None),
        ("other", True, InterfaceKind.BMC, None),
    ],
)
def test_classify_interface(netbox_type: str, mgmt_only: bool, kind: InterfaceKind, speed: int | None) -> None:
    assert classify_interface(netbox_type, mgmt_only) == (kind, speed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AA:BB:CC:DD:EE:0F", "aa:bb:cc:dd:ee:0f"),
        ("aa-bb-cc-dd-ee-0f", "aa:bb:cc:dd:ee:0f"),
        ("AABBCCDDEE0F", "aa:bb:cc:dd:ee:0f"),
        (" aa:bb:cc:dd:ee:0f ", "aa:bb:cc:dd:ee:0f"),
        ("aa:bb-cc:dd:ee:0f", None),  # mixed separators
        ("aa:bb:cc:dd:ee", None),
        ("aa:bb:cc:dd:ee:0f:11", None),
        ("gg:bb:cc:dd:ee:0f", None),
        ("aabbccddee0", None),
        ("", None),
    ],
)
def test_normalise_mac(text: str, expected: str | None) -> None:
    assert normalise_mac(text) == expected


def test_parse_csv_columns_aliases_and_blank_rows() -> None:
    text = (
        "Name,Serial_Number,asset,BMC_IP,bmc_port,bmc_username,mac:ens1f0np0,ens1f1np1_mac\n"
        "gpu-r12-u03,SN-1,AT-1,10.1.0.3,623,admin,AA:BB:CC:00:00:01,aabbcc000002\n"
        ",,,,,,,\n"
        "gpu-r12-u11,SN-2,,,,,,\n"
    )
    first, second = parse_csv(text, "techs.csv")
    assert (first.row, first.name, second.row, second.name) == (2, "gpu-r12-u03", 4, "gpu-r12-u11")
    assert first.values == {
        "serial": "SN-1",
        "asset_tag": "AT-1",
        "bmc_address": "10.1.0.3",
        "bmc_port": "623",
        "bmc_username": "admin",
    }
    assert first.macs == {"ens1f0np0": "AA:BB:CC:00:00:01", "ens1f1np1": "aabbcc000002"}
    assert second.values == {"serial": "SN-2"} and second.macs == {}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", "techs.csv:1", "empty file"),
        ("serial,asset_tag\nSN-1,AT-1\n", "techs.csv:1", "no 'name' column"),
        ("name,serial,colour\nx,1,red\n", "techs.csv:1", "unknown column(s): colour"),
        ("name,serial\nx,1\ny\n", "techs.csv, row 3", "1 cells, header has 2"),
    ],
)
def test_parse_csv_refuses_bad_structure(text: str, where: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_csv(text, "techs.csv")
    assert str(caught.value).startswith(where) and message in str(caught.value)
