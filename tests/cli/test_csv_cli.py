"""`import csv` as a technician meets it: a file applies as a whole (two devices may swap serials), a
semicolon file gets a hint, bytes that are not UTF-8 are named by row, `--dry-run` and `--json` say
what would change, and `--help` lists the columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]


def _sheet(tmp_path: Path, text: str, name: str = "sheet.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _devices(cli: Cli) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in cli("device", "list", "gpu-r12-u[03,11]", "--json").json()}


def test_two_devices_swap_serials_macs_and_bmc_addresses(r12: Cli, tmp_path: Path) -> None:
    first = _sheet(
        tmp_path, "name,serial,mac:ens1f0np0\ngpu-r12-u03,SN-A,aa:bb:cc:00:00:01\ngpu-r12-u11,SN-B,aa:bb:cc:00:00:02\n"
    )
    assert r12("import", "csv", first).exit_code == 0
    swapped = _sheet(
        tmp_path,
        "name,serial,bmc_address,mac:ens1f0np0\n"
        "gpu-r12-u03,SN-B,10.200.0.15,aa:bb:cc:00:00:02\n"
        "gpu-r12-u11,SN-A,10.200.0.14,aa:bb:cc:00:00:01\n",
        "swap.csv",
    )
    result = r12("import", "csv", swapped)
    assert result.exit_code == 0, result.stderr
    rows = _devices(r12)
    assert (rows["gpu-r12-u03"]["serial"], rows["gpu-r12-u11"]["serial"]) == ("SN-B", "SN-A")
    assert (rows["gpu-r12-u03"]["mgmt"], rows["gpu-r12-u11"]["mgmt"]) == ("ipmi://10.200.0.15", "ipmi://10.200.0.14")
    # the change log shows the net change, not the moves in between
    logged = r12("log", "--target", "gpu-r12-u03", "--kind", "device", "--action", "update", "--json").json()
    assert (logged[0]["before"], logged[0]["after"]) == ({"serial": "SN-A"}, {"serial": "SN-B"})


def test_a_value_still_held_outside_the_file_is_refused(r12: Cli, tmp_path: Path, row_counts: Counts) -> None:
    assert r12("device", "set", "gpu-r12-u19", "--serial", "SN-19").exit_code == 0
    before = row_counts()
    result = r12("import", "csv", _sheet(tmp_path, "name,serial\ngpu-r12-u03,SN-19\n"))
    assert result.exit_code == 2 and "serial SN-19 already belongs to gpu-r12-u19" in result.stderr
    assert row_counts() == before


def test_a_semicolon_file_gets_a_delimiter_hint_and_then_imports(r12: Cli, tmp_path: Path) -> None:
    path = _sheet(tmp_path, "name;serial;asset_tag\ngpu-r12-u03;SN-3;AT-3\n")
    refused = r12("import", "csv", path)
    assert refused.exit_code == 2
    assert f"{path}:1: no 'name' column" in refused.stderr
    assert "the header is separated by ';', not ',': pass --delimiter \";\"" in refused.stderr
    assert r12("import", "csv", path, "--delimiter", ";").exit_code == 0
    assert _devices(r12)["gpu-r12-u03"]["serial"] == "SN-3"


def test_bytes_that_are_not_utf8_are_named_by_row(r12: Cli, tmp_path: Path, row_counts: Counts) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,serial,asset_tag\ngpu-r12-u03,SN-3,AT-3\ngpu-r12-u11,SN-11,Régal\n".encode("latin-1"))
    before = row_counts()
    result = r12("import", "csv", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{path}, row 3: cannot read: byte 0xe9 at column 20 is not UTF-8" in result.stderr
    assert "CSV UTF-8" in result.stderr
    assert row_counts() == before


def test_dry_run_and_json_say_what_would_change_and_write_nothing(r12: Cli, tmp_path: Path, row_counts: Counts) -> None:
    assert r12("device", "set", "gpu-r12-u11", "--serial", "SN-11").exit_code == 0
    path = _sheet(tmp_path, "name,serial,bmc_port\ngpu-r12-u03,SN-3,6230\ngpu-r12-u11,SN-11,\n")
    before = row_counts()
    planned = r12("import", "csv", path, "--dry-run", "--json")
    assert planned.exit_code == 0, planned.stderr
    assert planned.json() == {
        "dry_run": True,
        "rows": 2,
        "changed": [
            {
                "row": 2,
                "name": "gpu-r12-u03",
                "changes": {
                    "serial": {"before": None, "after": "SN-3"},
                    "bmc_port": {"before": None, "after": 6230},
                },
            }
        ],
    }
    assert row_counts() == before
    table = r12("import", "csv", path, "--dry-run")
    assert "row 2 gpu-r12-u03: serial: (none) -> SN-3; bmc_port: (none) -> 6230" in table.stdout
    assert "1 device(s) would change" in table.stdout and "nothing was written" in table.stderr
    done = r12("import", "csv", path, "--json")
    assert done.json()["dry_run"] is False and _devices(r12)["gpu-r12-u03"]["serial"] == "SN-3"


def test_help_lists_the_columns(r12: Cli) -> None:
    text = " ".join(r12("import", "csv", "--help").stdout.split())
    for column in ("name", "serial", "asset_tag", "bmc_address", "bmc_port", "bmc_username", "mac:INTERFACE"):
        assert column in text
    assert "--dry-run" in text and "--json" in text and "--delimiter" in text
