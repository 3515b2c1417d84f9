"""Full inventory editing: remove devices (with their cables, outlets and addresses, in one transaction),
delete racks and sites, remove device types, rename and move devices, edit profiles; lifecycle guards,
the name rule on new names, `--dry-run` on each, and every edit in the change log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from rackctl.inventory.db import Database
from rackctl.inventory.models import Cable, Change, Device, Interface, IpAddress, PduOutlet, PowerFeed, Rack

Cli = Callable[..., Any]
Counts = Callable[[], dict[str, int]]
GPUS = ["gpu-r12-u03", "gpu-r12-u11", "gpu-r12-u19", "gpu-r12-u27"]


def _refused(result: Any, message: str) -> None:
    assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
    assert message in result.stderr, result.stderr


def _count(db: Database, model: type, *where: Any) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# device remove


def test_removing_a_device_takes_its_cables_outlets_and_addresses_in_one_transaction(
    r12: Cli, db: Database, row_counts: Counts
) -> None:
    before = row_counts()
    plugged = _count(db, PduOutlet, PduOutlet.power_port_id.is_not(None))
    planned = r12("device", "remove", "gpu-r12-u03", "--dry-run", "--json")
    assert planned.exit_code == 0, planned.stderr
    plan = planned.json()
    assert plan["dry_run"] is True and plan["devices"] == ["gpu-r12-u03"]
    assert "gpu-r12-u03:ens1f0np0 - leaf-r12-a:Ethernet1/1" in plan["cables"] and len(plan["cables"]) == 5
    assert plan["outlets_freed"] == [
        "pdu-r12-a1:25",
        "pdu-r12-a1:26",
        "pdu-r12-a2:25",
        "pdu-r12-b1:25",
        "pdu-r12-b1:26",
        "pdu-r12-b2:25",
    ]
    assert plan["addresses"] == ["10.100.0.10/26"] and plan["management"] == ["10.200.0.14"]
    assert row_counts() == before

    done = r12("device", "remove", "gpu-r12-u03", "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert {k: v for k, v in done.json().items() if k != "dry_run"} == {k: v for k, v in plan.items() if k != "dry_run"}
    assert _count(db, Device, Device.name == "gpu-r12-u03") == 0
    assert _count(db, Cable) == before["cables"] - 5
    assert _count(db, IpAddress) == before["ip_addresses"] - 1
    assert _count(db, PduOutlet) == before["pdu_outlets"]  # the PDUs keep their outlets, now free
    assert _count(db, PduOutlet, PduOutlet.power_port_id.is_not(None)) == plugged - 6
    assert _count(db, Interface, Interface.name == "Ethernet1/1") == 2  # the leaves' ports stay
    with db.transaction() as session:
        removal = list(session.scalars(select(Change).where(Change.command == "rackctl device remove")))
    assert len({c.request_id for c in removal}) == 1
    assert {(c.kind, c.action) for c in removal} >= {
        ("device", "delete"),
        ("cable", "delete"),
        ("pdu-outlet", "update"),
    }


def test_devices_in_service_are_refused_without_force(r12: Cli, db: Database, row_counts: Counts) -> None:
    assert r12("device", "set", "gpu-r12-u[03,11]", "--state", "in-service", "--force").exit_code == 0
    before = row_counts()
    refused = r12("device", "remove", "@rack:r12&@role:gpu-node", "--yes")
    _refused(refused, "gpu-r12-u[03,11] are in-service")
    assert "--state decommissioned" in refused.stderr and "--force" in refused.stderr
    _refused(r12("device", "remove", "pdu-r12-a1", "--yes"), "a PDU to remove feeds gpu-r12-u[03,11]")
    assert row_counts() == before
    assert r12("device", "remove", "gpu-r12-u03", "--force", "--yes").exit_code == 0
    assert r12("device", "set", "gpu-r12-u11", "--state", "decommissioned").exit_code == 0
    assert r12("device", "remove", "gpu-r12-u11", "--yes").exit_code == 0
    assert _count(db, Device, Device.name.in_(GPUS[:2])) == 0


def test_removal_asks_first_and_refuses_without_anyone_to_answer(r12: Cli, row_counts: Counts) -> None:
    before = row_counts()
    result = r12("device", "remove", "gpu-r12-u03")
    assert result.exit_code == 2 and "refusing without confirmation" in result.stderr
    assert row_counts() == before


# rack delete, site remove, device type remove


def test_deleting_a_rack_takes_everything_in_it_and_leaves_the_other_rack(r12: Cli, db: Database) -> None:
    assert r12("rack", "create", "r13", "-t", "l40s-8node", "-s", "fra1").exit_code == 0
    r13_devices = _count(db, Device, Device.rack.has(Rack.name == "r13"))
    _refused(r12("site", "remove", "fra1"), "site fra1 still holds rack(s) r12, r13")
    planned = r12("rack", "delete", "r12", "--dry-run")
    assert planned.exit_code == 0 and "12 devices" in planned.stdout and "32 cables" in planned.stdout
    assert "nothing was removed" in planned.stderr and _count(db, Rack) == 2
    assert r12("rack", "delete", "r12", "--yes").exit_code == 0
    assert _count(db, Rack) == 1 and _count(db, PowerFeed) == 2
    assert _count(db, Device) == r13_devices
    assert r12("rack", "delete", "r13", "--yes").exit_code == 0
    assert r12("site", "remove", "fra1", "--dry-run").exit_code == 0
    assert r12("site", "list", "--json").json()[0]["name"] == "fra1"
    assert r12("site", "remove", "fra1").exit_code == 0
    assert r12("site", "list", "--json").json() == []
    _refused(r12("rack", "delete", "r12", "--yes"), "no rack named 'r12'")


def test_a_device_type_in_use_cannot_be_removed(r12: Cli) -> None:
    _refused(r12("devicetype", "remove", "hgx-h100-8gpu"), "device type hgx-h100-8gpu is used by 4 device(s)")
    assert r12("devicetype", "remove", "l40s-4gpu-2u", "--dry-run").exit_code == 0
    assert "l40s-4gpu-2u" in {t["slug"] for t in r12("devicetype", "list", "--json").json()}
    assert r12("devicetype", "remove", "l40s-4gpu-2u").exit_code == 0
    assert "l40s-4gpu-2u" not in {t["slug"] for t in r12("devicetype", "list", "--json").json()}


# rename


HOSTILE = ["gpu r12", "$(reboot)", "gpu-r12-u[05]", "a,b", "../etc", "gpu-r12-\u0443\u0030\u0035", "-rf", "x" * 64, ""]


@pytest.mark.parametrize("name", HOSTILE, ids=[ascii(n)[:20] for n in HOSTILE])
def test_rename_applies_the_name_rule(r12: Cli, row_counts: Counts, name: str) -> None:
    before = row_counts()
    result = r12("device", "rename", "gpu-r12-u03", "--", name)
    _refused(result, "new name")
    assert "\n" not in result.stderr.strip().splitlines()[0]
    assert row_counts() == before


def test_rename_keeps_everything_and_refuses_a_taken_name(r12: Cli) -> None:
    _refused(r12("device", "rename", "gpu-r12-u03", "gpu-r12-u11"), "a device named gpu-r12-u11 already exists")
    assert r12("device", "rename", "gpu-r12-u03", "gpu-r12-u05", "--dry-run").exit_code == 0
    assert r12("device", "show", "gpu-r12-u03", "--json").exit_code == 0
    assert r12("device", "rename", "gpu-r12-u03", "gpu-r12-u05").exit_code == 0
    shown = r12("device", "show", "gpu-r12-u05", "--json").json()
    assert any(i["peer"] == "leaf-r12-a:Ethernet1/1" for i in shown["interfaces"])
    logged = r12("log", "--target", "gpu-r12-u05", "--action", "update", "--json").json()
    assert logged[0]["before"] == {"name": "gpu-r12-u03"} and logged[0]["after"] == {"name": "gpu-r12-u05"}


# move


MOVES_REFUSED = [
    (("--u", "18"), "gpu-r12-u11 at U18 (front) would share U19 with gpu-r12-u19"),
    (("--u", "36"), "gpu-r12-u11 (8U) at U36 would reach U43: rack r12 has U1-U42"),
    (("--u", "0"), "would reach U7"),
    (("--u", "19", "--face", "rear"), "would share U19 with gpu-r12-u19"),  # full depth: both faces
    ((), "nothing to change"),
    (("--rack", "r99", "--u", "1"), "no rack named 'r99'"),
]


@pytest.mark.parametrize(("options", "message"), MOVES_REFUSED, ids=[m for _, m in MOVES_REFUSED])
def test_moves_that_do_not_fit_are_refused(
    r12: Cli, row_counts: Counts, options: tuple[str, ...], message: str
) -> None:
    before = row_counts()
    _refused(r12("device", "move", "gpu-r12-u11", *options), message)
    assert row_counts() == before


def test_a_move_within_the_rack_and_to_another_rack(r12: Cli, db: Database) -> None:
    assert r12("device", "remove", "gpu-r12-u03", "--yes").exit_code == 0
    planned = r12("device", "move", "gpu-r12-u11", "--u", "2", "--dry-run", "--json").json()
    assert (planned["from"], planned["to"]) == (
        {"rack": "r12", "u": 11, "face": "front"},
        {"rack": "r12", "u": 2, "face": "front"},
    )
    assert r12("device", "show", "gpu-r12-u11", "--json").json()["u"] == 11
    assert (
        r12("device", "move", "gpu-r12-u11", "--u", "2").stdout.strip() == "gpu-r12-u11: r12 U11 front -> r12 U2 front"
    )
    assert r12("device", "show", "gpu-r12-u11", "--json").json()["u"] == 2
    _refused(r12("device", "move", "pdu-r12-a1", "--u", "5"), "pdu-r12-a1 is mounted at 0U")

    assert r12("rack", "create", "r13", "-t", "l40s-8node", "-s", "fra1").exit_code == 0
    _refused(r12("device", "move", "gpu-r12-u19", "--rack", "r13"), "moving gpu-r12-u19 to rack r13 needs --u")
    moved = r12("device", "move", "gpu-r12-u19", "--rack", "r13", "--u", "30", "--json")
    assert moved.exit_code == 0, moved.stderr
    assert moved.json()["to"] == {"rack": "r13", "u": 30, "face": "front"}
    assert len(moved.json()["unplugged"]) == 6  # its cords stay in r12's PDUs
    with db.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == "gpu-r12-u19")).one()
        assert all(p.outlet is None for p in device.power_ports)


# profile edit


def test_profile_edit_sets_and_unsets_columns_and_extra_settings(r12: Cli) -> None:
    planned = r12("profile", "edit", "h100-inference", "--set", "nvidia_driver=570.172.08", "--dry-run", "--json")
    assert planned.json()["changes"] == {"nvidia_driver": ["570.133.20", "570.172.08"]}
    assert r12("profile", "show", "h100-inference", "--json").json()["nvidia_driver"] == "570.133.20"
    result = r12(
        "profile",
        "edit",
        "h100-inference",
        "--set",
        "nvidia_driver=570.172.08",
        "--set",
        "extra.vlans.tenant=101",
        "--unset",
        "extra.burnin.dcgm_level",
        "--set",
        "mtu=9000",
    )
    assert result.exit_code == 0, result.stderr
    assert "nvidia_driver: 570.133.20 -> 570.172.08" in result.stdout
    assert "extra.vlans.tenant: 100 -> 101" in result.stdout and "extra.burnin.dcgm_level: 3 -> (none)" in result.stdout
    shown = r12("profile", "show", "h100-inference", "--json").json()
    assert shown["nvidia_driver"] == "570.172.08" and shown["extra"]["vlans"]["tenant"] == 101
    assert "dcgm_level" not in shown["extra"]["burnin"]
    logged = r12("log", "--kind", "profile", "--json").json()[0]
    assert logged["command"] == "rackctl profile edit" and logged["after"]["nvidia_driver"] == "570.172.08"


PROFILE_REFUSED = [
    (("--set", "mtu=abc"), "'abc' is not a whole number"),
    (("--set", "mtu=-3"), "-3 is less than the minimum of 0"),
    (("--set", "mtux=1"), "a profile has no field 'mtux'"),
    (("--set", "nvidia_driver=$(reboot)"), "nvidia_driver '$(reboot)' refused"),
    (("--set", "extra.vlans=5", "--set", "extra.vlans.x=1"), "extra.vlans holds 5, not settings"),
    (("--set", "novalue"), "'novalue' is not FIELD=VALUE"),
    (("--set", "extra.serving.image=vllm/vllm-openai:latest"), "extra.serving.image 'vllm/vllm-openai:latest' refused"),
    (("--set", "extra.serving.model_path=/srv/$(reboot)"), "extra.serving.model_path component '$(reboot)' refused"),
    (("--set", "extra.serving.token=hf_secret"), "extra.serving.token: '…' is not a secret reference"),
    (("--description", "two\nlines"), "--description"),
    ((), "nothing to change"),
]


@pytest.mark.parametrize(("options", "message"), PROFILE_REFUSED, ids=[m for _, m in PROFILE_REFUSED])
def test_profile_edit_refuses_bad_values(r12: Cli, row_counts: Counts, options: tuple[str, ...], message: str) -> None:
    before = row_counts()
    _refused(r12("profile", "edit", "h100-inference", *options), message)
    assert row_counts() == before
