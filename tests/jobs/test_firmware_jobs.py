"""`firmware update --wait` on a real `rackctl worker` serving fra1.firmware: the worker plans the rack, serves
the checked images from its host to the BMCs (writable DMTF mockups over real HTTP) and the command prints every
node's result as a direct run does; nodes a later job finds at the baseline are shown too."""

from __future__ import annotations

import json

from sqlalchemy import select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Operation
from tests.bmcconfig.conftest import PASSWORD, fleet  # noqa: F401 (fixture)
from tests.bmcconfig.test_firmware import QUICK, _baseline
from tests.jobs.conftest import Workers

NODES = "gpu-r12-u[03,11]"


def test_a_queued_firmware_update_runs_on_the_sites_firmware_worker(fleet, workers: Workers, db: Database,  # noqa: F811
                                                                      tmp_path) -> None:  # fmt: skip
    run = fleet(nodes=2, firmware=_baseline(tmp_path))
    workers.env["RACKCTL_BMC_PASSWORD"] = PASSWORD
    workers.start("w-fra1", "fra1", "--queues", "firmware")
    result = run.cli("firmware", "update", NODES, "--yes", "--json", "--wait", *QUICK)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert {row["target"]: row["ok"] for row in json.loads(result.stdout)} == {"gpu-r12-u03": True, "gpu-r12-u11": True}
    for server in run.servers.values():  # the images came from the worker's server, then the BMC was reset
        assert len(server.writes.fetched) == 2 and all(u.startswith("http://127.0.0.1:") for u in server.writes.fetched)
        assert server.made("POST", "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset")
    [job] = [j["id"] for j in run.cli("jobs", "list", "--json").json()]
    assert f"rackctl:firmware.update[{job}]" in workers.log("w-fra1")
    with db.transaction() as session:
        [operation] = session.scalars(select(Operation).where(Operation.command.endswith(f"(job {job})")))
        assert operation.command == f"firmware update {NODES} (job {job})"
        assert {r.target: r.ok for r in operation.results} == {"gpu-r12-u03": True, "gpu-r12-u11": True}
    again = run.cli("firmware", "update", NODES, "--yes", "--wait", *QUICK)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout.count("at the baseline") == 2 and "Firmware update (queued)" in again.stdout
