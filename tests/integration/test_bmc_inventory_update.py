"""`bmc inventory --update` against real ipmi_sim BMCs whose FRU serials are what boards really ship with.

"To Be Filled By O.E.M." is the SMBIOS/FRU placeholder of AMI-based boards (the token rule refuses it: spaces);
"0123456789" is another maker's default, the same on every board of a batch (the inventory's serials are unique).
One node reporting either must not stop the update: that node's serial is skipped with the reason, and every
other value, of that node and the others, is recorded.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.inventory.queries import device
from rackctl.lab import ipmi, processes
from rackctl.lab.plan import free_loopback
from tests.conftest import CliResult

PASSWORD = "s3cret-bmc"
REPORTED = {"gpu-r12-u03": "To Be Filled By O.E.M.", "gpu-r12-u11": "0123456789", "gpu-r12-u19": "0123456789"}


@pytest.fixture
def rack(cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rack r12 with three nodes' BMCs on real ipmi_sim processes reporting the serials above."""
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    script = ipmi.install_chassis_script(tmp_path / "ipmi")
    addresses = free_loopback(ipaddress.IPv4Network("127.2.232.0/24"), len(REPORTED), ipmi.IPMI_PORT)
    pids = []
    try:
        for (node, serial), address in zip(REPORTED.items(), addresses, strict=True):
            folder = tmp_path / "ipmi" / node
            sim = ipmi.SimNode(node, "Supermicro", "SYS-821GE", serial)
            ipmi.prepare(sim, folder, address, "admin", PASSWORD, script)
            pids.append(ipmi.start(folder))
            assert cli("device", "set", node, "--mgmt-address", address, "--mgmt-protocol", "ipmi").exit_code == 0
        assert ipmi.wait_answering(addresses) == []
        yield
    finally:
        processes.stop(pids)


def test_a_placeholder_serial_is_skipped_for_its_node_and_the_rest_is_recorded(
    rack: None, cli: Callable[..., CliResult], db: Database
) -> None:
    result = cli("bmc", "inventory", ",".join(REPORTED), "--update", "--json", "--timeout", "60")
    assert result.exit_code == 0, result.stderr
    skipped = {s["device"]: s for s in result.json()["skipped"]}
    assert skipped["gpu-r12-u03"]["observed"] == "To Be Filled By O.E.M."
    assert "serial" in skipped["gpu-r12-u03"]["reason"]
    with db.transaction() as session:
        serials = {name: device(session, name).serial for name in REPORTED}
        facts = {name: (device(session, name).facts or {}).get("bmc", {}) for name in REPORTED}
    assert serials["gpu-r12-u03"] is None
    assert facts["gpu-r12-u03"]["serial"] == "To Be Filled By O.E.M."  # what the BMC said is kept as a fact
    assert all(f["model"] == "SYS-821GE" for f in facts.values())
    # One of the two boards with the batch default got it; the other is skipped, naming the holder.
    holder = next(n for n in ("gpu-r12-u11", "gpu-r12-u19") if serials[n] == "0123456789")
    other = "gpu-r12-u19" if holder == "gpu-r12-u11" else "gpu-r12-u11"
    assert serials[other] is None
    assert skipped[other]["reason"] == f"'0123456789' is already the serial of {holder}"
    assert set(skipped) == {"gpu-r12-u03", other}
    log = cli("log", "--kind", "operation", "--json").json()
    (entry,) = [e for e in log if e["command"] == "bmc inventory --update"]
    messages = {r["target"]: r["message"] for r in entry["results"]}
    assert messages[holder] == "recorded"
    assert messages["gpu-r12-u03"].startswith("recorded; serial not recorded: ")


def test_the_table_warns_about_the_skipped_value(rack: None, cli: Callable[..., CliResult]) -> None:
    result = cli("bmc", "inventory", "gpu-r12-u03", "--update", "--timeout", "60")
    assert result.exit_code == 0, result.stderr
    assert "warning: gpu-r12-u03: serial not recorded:" in " ".join(result.stderr.split())
