"""Every `rackctl ...` line in the README's code blocks runs, so the docs cannot rot (issue 16).

Each code block is a little story: its examples run in order, as written, in a scratch folder with an
inventory of their own. The first block (the quick tour) starts from nothing; every other block starts where
the tour ends (rack r12 from the shipped h100-4node-air template at site fra1). The sample sheet the tour
imports is the README's own `csv` block. An example that needs a live device, writes outside the scratch
folder, or is a synopsis rather than a command is listed below with why; the list must name only examples
the README holds, and every other example must exit 0.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from readme_examples import ON_THE_LAB, blocks, example_blocks, run

LIVE_BMC = "needs live BMCs: tests/integration (ipmi_sim, sushy-tools) run these commands"
LIVE_HOST = "needs live hosts over SSH: tests/provision runs provisioning against nspawn and sshd hosts"
LIVE_SWITCH = "needs live switches: tests/switch pushes to real sshd-backed switch simulators"
LIVE_PDU = "needs live PDUs: tests/pdu runs these against snmpsim with recorded walks"
QUEUE = "needs the PostgreSQL job queue and running workers: tests/jobs runs them on a real PostgreSQL server"
SYNOPSIS = "a synopsis (placeholders, `|` alternatives, [optional] flags), not a command line"
ON_LAB = "needs live devices: runs on the lab instead, in tests/integration/test_readme_lab.py"
NOT_RUN = {
    **dict.fromkeys(ON_THE_LAB, ON_LAB),
    'rackctl db grants --role ops_alice | psql "$OWNER_URL"': "pipes into psql on a live PostgreSQL server:"
    " tests/inventory/test_grants.py applies the same grants to one",
    "rackctl power off|soft|cycle|reset TARGETS [--yes] [--wait 30]": SYNOPSIS,
    "rackctl boot pxe|disk|bios|cd TARGETS [--once|--persistent] [--legacy] [--dry-run] [--yes]": SYNOPSIS,
    "rackctl sensors TARGETS [--details]": SYNOPSIS,
    "rackctl sel list TARGETS; rackctl sel clear TARGETS": SYNOPSIS,
    "rackctl bmc inventory TARGETS [--update]": SYNOPSIS,
    "rackctl bmc probe TARGETS": SYNOPSIS,
    "rackctl identify TARGETS [--off]": SYNOPSIS,
    "rackctl console gpu-r12-u03": LIVE_BMC + " (Serial over LAN)",
    "rackctl firmware inventory TARGETS": SYNOPSIS,
    "rackctl firmware plan TARGETS [--components bmc,bios]": SYNOPSIS,
    "rackctl firmware update TARGETS [--components bmc,bios] [--batch 4] [--max-failure-rate 0.25]": SYNOPSIS,
    "rackctl bios get|diff TARGETS": SYNOPSIS,
    "rackctl bios apply TARGETS [--reboot] [--batch N] [--allow-in-service] [--yes] [--dry-run]": SYNOPSIS,
    "rackctl bmc users TARGETS": SYNOPSIS,
    "rackctl bmc rotate TARGETS [--shared] [--length 20] [--yes]": SYNOPSIS,
    "rackctl media insert TARGETS --image URL|FILE [--sha256 HEX] [--serve-for 1h] [--yes]": SYNOPSIS,
    "rackctl media eject|status TARGETS [--image URL|FILE]": SYNOPSIS,
    "rackctl boot cd TARGETS --once": SYNOPSIS,
    "rackctl provision '@rack:r12&@role:gpu-node'": LIVE_HOST,
    "rackctl provision @rack:r12 --batch 1 --max-fail 0 --yes": LIVE_HOST,
    "rackctl provision gpu-r12-u03 --check --diff": LIVE_HOST,
    "rackctl provision gpu-r12-u03 --tags host_network": LIVE_HOST,
    "rackctl provision @state:provisioned --tags burnin": LIVE_HOST + " (nodes already provisioned)",
    "rackctl provision @state:in-service --allow-in-service": LIVE_HOST + " (nodes already in service)",
    "rackctl provision gpu-r12-u03 --timeout 3600": LIVE_HOST,
    "rackctl provision gpu-r12-u03 -i conn.yml -e extra.yml --trust-new-keys": LIVE_HOST
    + " (and the operator's own conn.yml and extra.yml)",
    "rackctl bringup '@rack:r12&@role:gpu-node'": LIVE_BMC + " and hosts: tests/integration runs bring-up on the lab",
    "rackctl switch render leaf-r12-a [--out DIR] [--json]": SYNOPSIS,
    "rackctl switch diff @role:leaf": LIVE_SWITCH,
    "rackctl switch push leaf-r12-a leaf-r12-b": LIVE_SWITCH,
    "rackctl switch push leaf-r12-a leaf-r12-b --yes": LIVE_SWITCH,
    "rackctl switch backup @role:leaf": LIVE_SWITCH,
    "rackctl cabling check @rack:r12 [--json]": SYNOPSIS,
    "rackctl audit @rack:r12 --layers host,cabling": LIVE_HOST + " and switches (LLDP): tests/integration audits",
    "rackctl audit --format json|prometheus|junit [--output FILE]": SYNOPSIS,
    "rackctl audit @all --shard 2/4": LIVE_BMC + ", hosts, switches and PDUs: a live audit",
    "rackctl audit history gpu-r12-u03 [--open]": SYNOPSIS,
    "rackctl audit diff 41 42": "needs audit runs 41 and 42, recorded by live audits",
    "rackctl audit schedule --every 1h @all": "writes unit files into /etc/systemd/system, outside the scratch folder",
    "rackctl audit serve --listen 127.0.0.1:9310": "a server that runs until stopped: tests/integration scrapes it",
    "rackctl worker --site fra1 --queues audit,bmc --concurrency 4": QUEUE + " (a worker runs until stopped)",
    "rackctl worker --site fra1 --write-unit [--output DIR] [--credential NAME[=PATH]]": SYNOPSIS,
    "rackctl worker --site fra1 --audit-every 1h [--audit-layers bmc,pdu]": SYNOPSIS,
    "rackctl audit @site:fra1,@site:ams1 --queue": QUEUE,
    "rackctl audit @all --wait [--format json] [--wait-for 3600]": SYNOPSIS,
    "rackctl power status|on|off|soft|cycle|reset @rack:r12 --queue | --follow": SYNOPSIS,
    "rackctl provision @rack:r12 --queue | --wait [--check] [-i FILE] [-e FILE]": SYNOPSIS,
    "rackctl bringup @rack:r12 --queue | --wait [-i FILE] [--json]": SYNOPSIS,
    "rackctl jobs list [--queue fra1.audit] [--status failed] [--json]": SYNOPSIS,
    "rackctl jobs show 17": QUEUE + " (job 17 must exist)",
    "rackctl jobs cancel 17 [--abort]": SYNOPSIS,
    "rackctl jobs retry 17": QUEUE + " (job 17 must exist)",
    "rackctl pdu cycle pdu-r12-a1,pdu-r12-b1:7": LIVE_PDU,
    "rackctl power cycle gpu-r12-u03 --via pdu": LIVE_PDU + " and BMCs",
    "rackctl pdu verify-feeds gpu-r12-u03": LIVE_PDU + " and BMCs",
}
BLOCKS = example_blocks()


def test_every_listed_example_is_in_the_readme_and_every_other_one_runs() -> None:
    examples = [line for block in BLOCKS for line in block]
    assert set(NOT_RUN) <= set(examples), sorted(set(NOT_RUN) - set(examples))
    assert len(examples) > len(NOT_RUN) + 20  # most examples run


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch folder holding the README's sample sheet, with rackctl's settings pointed into it."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "serials.csv").write_text(blocks("csv")[0], encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RACKCTL_CONFIG", str(folder / "no-config.toml"))
        patch.setenv("RACKCTL_STATE_DIR", str(folder / "state"))
        patch.setenv("RACKCTL_ACTOR", "tester")
        yield folder


def _run_block(block: list[str], db: Path, folder: Path) -> None:
    os.environ["RACKCTL_DB_URL"] = f"sqlite:///{db}"
    previous = Path.cwd()
    os.chdir(folder)
    try:
        for example in block:
            if example not in NOT_RUN:
                ran = run(example, folder)
                assert ran.exit_code == 0, f"{example}\n{ran.stdout}{ran.stderr}"
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def tour(scratch: Path) -> Path:
    """The inventory the quick tour (the README's first block) leaves behind, from nothing."""
    db = scratch / "tour.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RACKCTL_DB_URL", "")
        _run_block(BLOCKS[0], db, scratch)
    assert (scratch / "r12.svg").is_file() and (scratch / "inv.json").is_file()
    return db


@pytest.mark.parametrize("block", BLOCKS[1:], ids=[b[0][:60] for b in BLOCKS[1:]])
def test_a_readme_block_runs_where_the_tour_ends(block: list[str], tour: Path, tmp_path: Path) -> None:
    db = tmp_path / "inventory.db"
    shutil.copy(tour, db)
    folder = tmp_path / "work"
    shutil.copytree(tour.parent, folder, ignore=shutil.ignore_patterns("*.db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RACKCTL_DB_URL", "")
        _run_block(block, db, folder)


def test_the_quick_tour_runs_from_nothing(tour: Path) -> None:
    assert tour.stat().st_size > 0
