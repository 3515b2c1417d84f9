"""`import csv`: a technician's spreadsheet of serials, asset tags, BMC addresses and MACs, applied all
or nothing; every bad row reported by its row number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from rackctl.errors import ValidationError
from rackctl.inventory.csvapply import import_csv
from rackctl.inventory.csvimport import CsvErrors
from rackctl.inventory.db import Database
from rackctl.inventory.models import Device
from rackctl.types import MgmtProtocol

Build = Callable[..., list[str]]
Counts = Callable[[], dict[str, int]]
HEADER = "name,serial,asset_tag,bmc_address,bmc_port,bmc_username,mac:ens1f0np0,mac:ens1f1np1,BMC_mac\n"


@pytest.fixture
def rack(db: Database, build: Build) -> Database:
    build("r12")
    return db


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "rack r12 serials.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def _apply(db: Database, path: Path) -> int:
    with db.transaction() as session:
        return len(import_csv(session, path))


def test_a_good_sheet_sets_serials_tags_bmcs_and_macs(rack: Database, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "gpu-r12-u03,SN-H100-0003,AT-10003,10.210.0.3,623,ADMIN,AA:BB:CC:00:03:00,aa-bb-cc-00-03-01,aabbcc0003ff\n"
        "\n"  # a blank line from the spreadsheet's export
        "gpu-r12-u11,SN-H100-0011,,,,,,,\n"
        "leaf-r12-a,JPE12345678,AT-20001,,,,,,\n",
    )
    assert _apply(rack, path) == 3
    with rack.transaction() as session:
        u03 = session.scalars(select(Device).where(Device.name == "gpu-r12-u03")).one()
        assert (u03.serial, u03.asset_tag) == ("SN-H100-0003", "AT-10003")
        assert u03.mgmt is not None
        assert (u03.mgmt.address, u03.mgmt.port, u03.mgmt.username) == ("10.210.0.3", 623, "ADMIN")
        assert u03.mgmt.protocol == MgmtProtocol.IPMI and u03.mgmt.credential_ref == "env:RACKCTL_BMC_PASSWORD"
        macs = {i.name: i.mac for i in u03.interfaces if i.mac}
        assert macs == {"ens1f0np0": "aa:bb:cc:00:03:00", "ens1f1np1": "aa:bb:cc:00:03:01", "BMC": "aa:bb:cc:00:03:ff"}
        u11 = session.scalars(select(Device).where(Device.name == "gpu-r12-u11")).one()
        assert u11.serial == "SN-H100-0011" and u11.mgmt is not None and u11.mgmt.address == "10.200.0.15"
        leaf = session.scalars(select(Device).where(Device.name == "leaf-r12-a")).one()
        assert (leaf.serial, leaf.asset_tag) == ("JPE12345678", "AT-20001")


def test_a_device_without_a_bmc_gets_one_and_ipv6_is_fine(db: Database, tmp_path: Path, build: Build) -> None:
    build("r12")
    with db.transaction() as session:
        leaf = session.scalars(select(Device).where(Device.name == "leaf-r12-b")).one()
        leaf.mgmt = None
    _apply(db, _csv(tmp_path, "leaf-r12-b,,,fd00:10::41,,,,,\n"))
    with db.transaction() as session:
        leaf = session.scalars(select(Device).where(Device.name == "leaf-r12-b")).one()
        assert leaf.mgmt is not None
        assert (leaf.mgmt.address, leaf.mgmt.protocol) == ("fd00:10::41", MgmtProtocol.AUTO)


def test_reimporting_the_same_sheet_is_harmless(rack: Database, tmp_path: Path) -> None:
    path = _csv(tmp_path, "gpu-r12-u03,SN-1,AT-1,10.210.0.3,,,aa:bb:cc:00:03:00,,\n")
    _apply(rack, path)
    assert _apply(rack, path) == 1  # its own serial, address and MAC are not collisions


BAD_ROWS = [
    ("gpu-r12-u99,SN-1,,,,,,,\n", 2, "name", "no device named 'gpu-r12-u99' in the inventory"),
    (",SN-1,,,,,,,\n", 2, "name", "no device name"),
    ("gpu-r12-u03,,,10.210.0.300,,,,,\n", 2, "bmc_address", "'10.210.0.300' is not an IP address"),
    ("gpu-r12-u03,,,bmc-u03.example,,,,,\n", 2, "bmc_address", "'bmc-u03.example' is not an IP address"),
    ("gpu-r12-u03,,,,62x,,,,\n", 2, "bmc_port", "'62x' is not a port number"),
    ("gpu-r12-u03,,,,70000,,,,\n", 2, "bmc_port", "'70000' is not a port number"),
    ("gpu-r12-u03,,,,,,AA:BB:CC:00:03,,\n", 2, "mac:ens1f0np0", "'AA:BB:CC:00:03' is not a MAC address"),
    ("gpu-r12-u03,,,,,,aa:bb:cc:00:03:zz,,\n", 2, "mac:ens1f0np0", "is not a MAC address"),
    ("pdu-r12-a1,,,,,,aa:bb:cc:00:03:00,,\n", 2, "mac:ens1f0np0", "pdu-r12-a1 has no interface 'ens1f0np0'"),
    ("gpu-r12-u03,SN-1,,,,,,,\ngpu-r12-u11,sn-1,,,,,,,\n", 3, "serial", "serial SN-1 also on row 3"),
    ("gpu-r12-u03,,,,,,,,\ngpu-r12-u03,,,,,,,,\n", 3, "name", "name gpu-r12-u03 also on row 3"),
    (
        "gpu-r12-u03,,,,,,aa:bb:cc:00:03:00,,\ngpu-r12-u11,,,,,,AABBCC000300,,\n",
        3,
        "mac",
        "mac aa:bb:cc:00:03:00 also on row 3",
    ),
    ("gpu-r12-u03,,,10.200.0.15,,,,,\n", 2, "bmc_address", "bmc_address 10.200.0.15 already belongs to gpu-r12-u11"),
    ("gpu-r12-u03,,,10.100.0.11,,,,,\n", 2, "bmc_address", "bmc_address 10.100.0.11 already belongs to gpu-r12-u11"),
]


@pytest.mark.parametrize(("body", "row", "field", "message"), BAD_ROWS, ids=[m for *_, m in BAD_ROWS])
def test_a_bad_row_is_reported_by_number_and_nothing_is_written(
    rack: Database, row_counts: Counts, tmp_path: Path, body: str, row: int, field: str, message: str
) -> None:
    path = _csv(tmp_path, "leaf-r12-a,JPE-GOOD-ROW,,,,,,,\n" + body)
    before = row_counts()
    with pytest.raises(CsvErrors) as caught:
        _apply(rack, path)
    (problem,) = caught.value.errors
    assert (problem.where.source, problem.where.row, problem.where.field) == (str(path), row + 1, field)
    assert message in str(problem)
    assert str(problem).startswith(f"{path}, row {row + 1}, field '{field}': ")
    assert row_counts() == before
    with rack.transaction() as session:
        assert session.scalars(select(Device.serial).where(Device.name == "leaf-r12-a")).one() is None


def test_collisions_with_the_inventory(rack: Database, tmp_path: Path) -> None:
    _apply(rack, _csv(tmp_path, "gpu-r12-u03,SN-0003,AT-1,,,,aa:bb:cc:00:03:00,,\n"))
    path = _csv(tmp_path, "gpu-r12-u11,sn-0003,at-1,,,,AA-BB-CC-00-03-00,,\n")
    with pytest.raises(CsvErrors) as caught:
        _apply(rack, path)
    assert [(e.where.row, e.where.field) for e in caught.value.errors] == [
        (2, "serial"),
        (2, "asset_tag"),
        (2, "mac"),
    ]
    assert [e.reason for e in caught.value.errors] == [
        "serial SN-0003 already belongs to gpu-r12-u03",
        "asset_tag AT-1 already belongs to gpu-r12-u03",
        "mac aa:bb:cc:00:03:00 already belongs to gpu-r12-u03",
    ]


def test_every_bad_row_is_reported_in_row_order(rack: Database, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "gpu-r12-u03,,,300.1.1.1,,,,,\ngpu-r12-u11,,,,,,,,\ngpu-r12-u99,,,,,,,,\ngpu-r12-u19,,,,,,zz,,\n",
    )
    with pytest.raises(CsvErrors) as caught:
        _apply(rack, path)
    assert [e.where.row for e in caught.value.errors] == [2, 4, 5]
    assert str(caught.value).endswith("(and 2 more bad row(s))")
    assert isinstance(caught.value, ValidationError)


def test_unreadable_files_are_validation_errors(rack: Database, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        _apply(rack, tmp_path / "missing.csv")
    binary = tmp_path / "sheet.xlsx"
    binary.write_bytes(b"PK\x03\x04\xff\xfe\x00binary")
    with pytest.raises(ValidationError, match="cannot read"):
        _apply(rack, binary)
