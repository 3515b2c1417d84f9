"""One broken or dead Redfish BMC never changes another's result: the fan-out service and the CLI against
recorded services on their own loopback addresses."""

from __future__ import annotations

import time

from rackctl import fanout
from rackctl.errors import CommandError, ConnectError
from rackctl.inventory import queries
from rackctl.services import power
from rackctl.services.bmc import BmcTarget, execute, with_driver
from rackctl.types import MgmtProtocol

GOOD, BROKEN, DEAD = "127.31.0.1", "127.31.0.2", "127.31.0.3"


def test_execute_gives_each_bmc_its_own_result(mockup, endpoint_for):
    good, broken = mockup(address=GOOD), mockup("html-root", address=BROKEN)
    dead = mockup(address=DEAD)
    dead_endpoint = endpoint_for(dead)
    dead.stop()  # its address stays, nothing listens: refused at once
    targets = [
        BmcTarget("node-broken", endpoint_for(broken), MgmtProtocol.REDFISH),
        BmcTarget("node-good", endpoint_for(good), MgmtProtocol.REDFISH),
        BmcTarget("node-dead", dead_endpoint, MgmtProtocol.REDFISH),
    ]
    started = time.monotonic()
    outcome = execute("power status", targets, with_driver(power.status), fanout.Options(timeout=5, retries=1))
    assert time.monotonic() - started < 5
    results = {r.target: r for r in outcome.results}
    assert [r.target for r in outcome.results] == ["node-broken", "node-good", "node-dead"]
    assert results["node-good"].ok and results["node-good"].value.message == "on"
    assert isinstance(results["node-broken"].error, CommandError)
    assert "not valid Redfish JSON" in results["node-broken"].message
    assert results["node-broken"].attempts == 1  # a bad answer is not transient: no retry
    assert isinstance(results["node-dead"].error, ConnectError)
    assert not outcome.ok
    # the good BMC saw one ordinary operation: one session, logged out
    assert good.sessions_created == 1 and good.sessions == {}
    assert [r.method for r in good.requests] == ["GET", "POST", "GET", "GET", "DELETE"]


def test_cli_power_status_over_two_recorded_bmcs(cli, db, mockup, monkeypatch):
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", "secret")
    # plain HTTP only because each endpoint says so (scheme: http); a port number never implies it
    good, broken = mockup(address="127.31.1.1", port=8000), mockup("no-power", address="127.31.1.2", port=8000)
    broken.fail("/redfish/v1/Systems/437XR1138R2", 500)
    assert cli("rack", "create", "r12", "-t", "h100-4node-air", "-s", "fra1").exit_code == 0
    for node, server in (("gpu-r12-u03", good), ("gpu-r12-u11", broken)):
        result = cli(
            "device",
            "set",
            node,
            "--mgmt-address",
            server.address,
            "--mgmt-port",
            "8000",
            "--mgmt-protocol",
            "redfish",
        )
        assert result.exit_code == 0, result.stderr
        with db.transaction() as session:
            queries.device(session, node).mgmt.options = {"scheme": "http"}
    result = cli("power", "status", "gpu-r12-u[03,11]", "--json", "--timeout", "5")
    assert result.exit_code == 1, result.stderr
    rows = {row["target"]: row for row in result.json()}
    assert rows["gpu-r12-u03"]["ok"] and rows["gpu-r12-u03"]["value"]["after"] == "on"
    assert rows["gpu-r12-u11"]["error_type"] == "CommandError"
    assert "HTTP 500 for /redfish/v1/Systems/437XR1138R2" in rows["gpu-r12-u11"]["error"]
    assert good.sessions == {} and broken.sessions == {}  # both logged out, the failing one too
