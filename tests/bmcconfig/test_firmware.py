"""Firmware against the baseline, over real HTTP: writable DMTF mockups as the BMCs, rackctl serving the images."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import HTTP
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from rackctl.inventory import queries
from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation
from tests.bmcconfig.conftest import lab_image

BMC = "/redfish/v1/UpdateService/FirmwareInventory/BMC"
# Generous deadlines (CI is a loaded machine); the polls end as soon as the condition holds.
QUICK = ("--bmc-wait", "60s", "--task-timeout", "60s", "--poll", "0.1s", "--timeout", "60")


def _baseline(tmp_path: Path, bmc: str = "1.46.0", bios: str = "P79 v1.46") -> dict:
    bmc_image, bmc_sum = lab_image(tmp_path, "BMC", bmc)
    bios_image, bios_sum = lab_image(tmp_path, "BIOS", bios)
    return {
        "bmc": {"version": bmc, "image": str(bmc_image), "sha256": bmc_sum},
        "bios": {"version": bios, "image": str(bios_image), "sha256": bios_sum},
    }


def test_inventory_lists_every_running_component(fleet):
    run = fleet(nodes=1)
    code, rows = run.json("firmware", "inventory", "gpu-r12-u03")
    assert code == 0
    found = {(c["id"], c["kind"], c["version"]) for c in rows[0]["value"]}
    # DMTF's collection says Members@odata.count 2 but lists three: every listed member counts
    assert found == {("BMC", "bmc", "1.45.455b66-rev4"), ("BIOS", "bios", "P79 v1.45"), ("SS", "other", "2.50")}


def test_plan_orders_host_firmware_first_and_says_which_reboots(fleet, tmp_path):
    run = fleet(nodes=1, firmware=_baseline(tmp_path))
    code, rows = run.json("firmware", "plan", "gpu-r12-u03")
    assert code == 0
    steps = rows[0]["value"]["steps"]
    assert [(s["kind"], s["reboot"], s["bmc_reset"]) for s in steps] == [("bios", True, False), ("bmc", False, True)]
    assert [c["version"] for c in steps[0]["components"]] == ["P79 v1.45"]
    assert not run.servers["gpu-r12-u03"].made("POST", "/redfish/v1/UpdateService/Actions/SimpleUpdate")


def test_update_brings_nodes_to_the_baseline_through_simple_update(fleet, tmp_path, db: Database):
    run = fleet(nodes=2, firmware=_baseline(tmp_path))
    result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = {row["target"]: row for row in result.json()}
    for node, server in run.servers.items():
        assert rows[node]["ok"], rows[node]
        assert rows[node]["detail"]["components"] == {
            "bios": {"before": "P79 v1.45", "wanted": "P79 v1.46", "after": "P79 v1.46"},
            "bmc": {"before": "1.45.455b66-rev4", "wanted": "1.46.0", "after": "1.46.0"},
        }
        # the BMC fetched both images from rackctl's server (SimpleUpdate), then was reset for the BIOS
        assert len(server.writes.fetched) == 2 and all(u.startswith("http://127.0.0.1:") for u in server.writes.fetched)
        assert server.made("POST", "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset")
    with db.transaction() as session:
        operations = list(session.scalars(select(Operation).order_by(Operation.id)))
        commands = [o.command for o in operations]
        intent, done = ({r.target: r.detail for r in o.results} for o in operations[-2:])
    assert commands[-2:] == ["firmware update gpu-r12-u[03,11] (intent)", "firmware update gpu-r12-u[03,11]"]
    # the log keeps every component's before/wanted first (DMTF's recorded versions), then before/wanted/after
    for node in run.servers:
        assert intent[node]["components"]["bmc"] == {"before": "1.45.455b66-rev4", "wanted": "1.46.0"}
        assert intent[node]["components"]["bios"] == {"before": "P79 v1.45", "wanted": "P79 v1.46"}
        assert done[node]["components"] == rows[node]["detail"]["components"]


def test_a_checksum_mismatch_sends_nothing_and_logs_no_intent(fleet, tmp_path, db: Database):
    baseline = _baseline(tmp_path)
    baseline["bmc"]["sha256"] = "0" * 64
    run = fleet(nodes=2, firmware=baseline)
    result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", *QUICK)
    assert result.exit_code == 2
    assert "sha256 is" in result.stderr and "the profile says 0000" in result.stderr and "not sent" in result.stderr
    assert "Traceback" not in result.stderr
    for server in run.servers.values():
        assert server.writes.fetched == [] and not server.made("POST", "/FWUpdate")
    with db.transaction() as session:
        assert not [o for o in session.scalars(select(Operation)) if o.command.startswith("firmware update")]


def test_a_failing_task_fails_its_node_and_not_the_others(fleet, tmp_path):
    run = fleet(nodes=2, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bmc"})
    run.servers["gpu-r12-u11"].writes.fail_tasks = True
    result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", "--json", *QUICK)
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json()}
    assert rows["gpu-r12-u03"]["ok"] and rows["gpu-r12-u03"]["detail"]["components"]["bmc"]["after"] == "1.46.0"
    failed = rows["gpu-r12-u11"]
    assert not failed["ok"]
    assert failed["error"] == "bmc: update task ended Exception: injected failure"
    assert failed["detail"]["components"]["bmc"] == {"before": "1.45.455b66-rev4", "wanted": "1.46.0"}


def test_a_bmc_that_resets_and_comes_back_is_followed_through_its_outage(fleet, tmp_path):
    run = fleet(nodes=1, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bmc"})
    server = run.servers["gpu-r12-u03"]
    server.writes.reset_s = 1.0
    result = run.cli("firmware", "update", "gpu-r12-u03", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout
    assert result.json()[0]["detail"]["components"]["bmc"]["after"] == "1.46.0"
    assert server.made("GET", BMC)


def test_a_bmc_that_resets_and_stays_away_is_reported_unknown(fleet, tmp_path):
    run = fleet(nodes=2, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bmc"})
    run.servers["gpu-r12-u03"].writes.reset_s = None  # it never comes back
    wait = ("--bmc-wait", "3s", "--task-timeout", "60s", "--poll", "0.1s", "--timeout", "60")
    result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", "--json", *wait)
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json()}
    assert rows["gpu-r12-u11"]["ok"]
    # whether the reset is seen while following the update or while verifying it depends on timing; both say so
    assert "the BMC did not come back within 3s; its firmware state is unknown" in rows["gpu-r12-u03"]["error"]


def test_push_sends_the_checked_image_to_the_http_push_uri(fleet, tmp_path):
    baseline = {k: v for k, v in _baseline(tmp_path).items() if k == "bmc"}
    baseline["bmc"]["via"] = "push"
    run = fleet(nodes=1, firmware=baseline)
    result = run.cli("firmware", "update", "gpu-r12-u03", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout
    server = run.servers["gpu-r12-u03"]
    (push,) = server.made("POST", "/FWUpdate")  # DMTF's mockup offers HttpPushUri, not MultipartHttpPushUri
    assert push.body == Path(baseline["bmc"]["image"]).read_bytes()
    assert server.writes.fetched == []


def test_multipart_push_to_the_uri_a_recorded_idrac_offers(fleet, tmp_path):
    baseline = {k: v for k, v in _baseline(tmp_path).items() if k == "bmc"}
    baseline["bmc"]["via"] = "push"
    run = fleet(nodes=1, variant="multipart-update", firmware=baseline)  # Dell iDRAC 9's recorded UpdateService
    result = run.cli("firmware", "update", "gpu-r12-u03", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.json()[0]["detail"]["components"]["bmc"]["after"] == "1.46.0"
    server = run.servers["gpu-r12-u03"]
    (push,) = server.made("POST", "/redfish/v1/UpdateService/MultipartUpload")
    assert not server.made("POST", "/redfish/v1/UpdateService/FirmwareInventory")  # its HttpPushUri: not used
    form = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + push.content_type.encode() + b"\r\n\r\n" + push.body)
    parts = {p.get_param("name", header="content-disposition"): p for p in form.iter_parts()}
    assert sorted(parts) == ["UpdateFile", "UpdateParameters"]  # the two parts the Redfish specification names
    assert parts["UpdateFile"].get_payload(decode=True) == Path(baseline["bmc"]["image"]).read_bytes()
    assert json.loads(parts["UpdateParameters"].get_payload(decode=True)) == {
        "Targets": ["/redfish/v1/UpdateService/FirmwareInventory/BMC"],  # the member's @odata.id in DMTF's mockup
        "@Redfish.OperationApplyTime": "Immediate",  # listed in the iDRAC's OperationApplyTimeSupport
    }


def test_in_service_nodes_are_left_alone_and_batches_stop_above_the_failure_rate(fleet, tmp_path):
    run = fleet(nodes=3, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bmc"})
    assert run.cli("device", "set", "gpu-r12-u19", "--state", "in-service", "--force").exit_code == 0
    for node in ("gpu-r12-u03", "gpu-r12-u11"):
        run.servers[node].writes.fail_tasks = True
    args = ("--batch", "1", "--max-failure-rate", "0.4", "--yes", "--json", *QUICK)
    result = run.cli("firmware", "update", "gpu-r12-u[03,11,19]", *args)
    rows = {row["target"]: row for row in result.json()}
    assert "in service: not touched" in rows["gpu-r12-u19"]["error"]
    assert rows["gpu-r12-u03"]["error"].startswith("bmc: update task ended Exception")
    assert rows["gpu-r12-u11"]["error"] == ("not attempted: 1 of 1 nodes failed, above the 40% limit")
    assert run.servers["gpu-r12-u11"].writes.fetched == [] and run.servers["gpu-r12-u19"].writes.fetched == []


def test_host_reboots_go_in_the_waves_the_feeds_can_carry(fleet, tmp_path, db: Database):
    run = fleet(nodes=4, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bios"})
    with db.transaction() as session:
        for feed in queries.rack(session, "r12").feeds:
            # 415 V x 80 A x sqrt(3) x 0.8 = 46.0 kW per feed: four nodes' inrush (4 x 11.5 kW with 1.3 kW of
            # network gear on one feed when the other is lost: 47.3 kW) does not fit; three do, then the fourth
            feed.amperage = 80.0
    result = run.cli("firmware", "update", "gpu-r12-u[03,11,19,27]", "--batch", "4", "--yes", "--json", *QUICK)
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = {row["target"]: row for row in result.json()}
    assert {n: r["detail"]["reboot_wave"] for n, r in rows.items()} == {
        "gpu-r12-u03": 1, "gpu-r12-u11": 1, "gpu-r12-u19": 1, "gpu-r12-u27": 2}  # fmt: skip
    reset = "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset"
    at = {node: [r.at for r in server.made("POST", reset)] for node, server in run.servers.items()}
    assert all(len(times) == 1 for times in at.values()), at
    # the fourth node is reset only after the first wave's nodes were reset and came back on
    assert max(at[n][0] for n in ("gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19")) < at["gpu-r12-u27"][0]
    assert all(r["detail"]["components"]["bios"]["after"] == "P79 v1.46" for r in rows.values())


def test_without_yes_it_counts_what_it_would_touch_and_changes_nothing(fleet, tmp_path):
    run = fleet(nodes=3, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bmc"})
    assert run.cli("device", "set", "gpu-r12-u19", "--state", "in-service", "--force").exit_code == 0
    dry = run.cli("firmware", "update", "gpu-r12-u[03,11,19]", "--dry-run", *QUICK)
    assert dry.exit_code == 0, dry.stderr
    line = "update the firmware of 2 node(s): gpu-r12-u[03,11] (1 other node(s) left as they are)"
    assert f"would {line}" in dry.stdout
    allowed = run.cli("firmware", "update", "gpu-r12-u[03,11,19]", "--allow-in-service", "--dry-run", *QUICK)
    assert "would update the firmware of 3 node(s): gpu-r12-u[03,11,19]\n" in allowed.stdout
    refused = run.cli("firmware", "update", "gpu-r12-u[03,11,19]", *QUICK)  # nobody at a terminal to answer
    assert refused.exit_code == 2 and f"{line}? - refusing without confirmation" in refused.stderr
    for server in run.servers.values():
        assert server.writes.fetched == [] and all("/Sessions" in r.path for r in server.made("POST"))


def test_a_reboot_the_feeds_cannot_carry_is_not_made_and_says_why(fleet, tmp_path, db: Database):
    run = fleet(nodes=4, firmware={k: v for k, v in _baseline(tmp_path).items() if k == "bios"})
    with db.transaction() as session:
        for feed in queries.rack(session, "r12").feeds:
            feed.amperage = 63.0  # 36.2 kW: with three nodes running, the fourth's inrush never fits
    result = run.cli("firmware", "update", "gpu-r12-u[03,11,19,27]", "--batch", "4", "--yes", "--json", *QUICK)
    assert result.exit_code == 1
    rows = {row["target"]: row for row in result.json()}
    assert [n for n, r in rows.items() if r["ok"]] == ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19"]
    assert "but the reboot failed: not rebooted: feed r12/B with A lost would carry" in rows["gpu-r12-u27"]["error"]
    reset = "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset"
    assert not run.servers["gpu-r12-u27"].made("POST", reset)
    assert rows["gpu-r12-u27"]["detail"]["components"]["bios"] == {"before": "P79 v1.45", "wanted": "P79 v1.46"}


@contextmanager
def _origin(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """A plain HTTP file server standing in for a vendor's download site; yields its URL and the paths it served."""
    served: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            served.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_image_is_downloaded_once_checked_and_served_only_while_the_run_lasts(fleet, tmp_path):
    baseline = {k: v for k, v in _baseline(tmp_path).items() if k == "bmc"}
    image = Path(baseline["bmc"]["image"])
    with _origin(image.parent) as (origin, served):
        baseline["bmc"]["image"] = f"{origin}/{image.name}"
        run = fleet(nodes=2, firmware=baseline)
        result = run.cli("firmware", "update", "gpu-r12-u[03,11]", "--yes", "--json", *QUICK)
        assert result.exit_code == 0, result.stdout + result.stderr
    assert [p for p in served if image.name in p] == [f"/{image.name}"]  # one download for both nodes
    fetched = [u for server in run.servers.values() for u in server.writes.fetched]
    assert len(fetched) == 2 and not any(u.startswith(origin) for u in fetched)  # the BMCs got rackctl's copy
    with pytest.raises(requests.ConnectionError):  # rackctl's image server is gone once the run ended
        requests.get(fetched[0], timeout=5)
