"""Lifecycle changes with their history, hand edits of devices, and the Ansible inventory export."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from rackctl.errors import ConfigError, NotFound, ValidationError
from rackctl.inventory.db import Database
from rackctl.inventory.edits import DeviceChanges, update_devices
from rackctl.inventory.export import ansible_inventory, group_name
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device, StateChange
from rackctl.types import MgmtProtocol, NodeState

Build = Callable[..., list[str]]
Counts = Callable[[], dict[str, int]]
S = NodeState


@pytest.fixture
def rack(db: Database, build: Build) -> Database:
    build("r12")
    return db


def _history(db: Database, name: str) -> list[tuple[NodeState | None, NodeState, str, str]]:
    with db.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == name)).one()
        return [(h.from_state, h.to_state, h.actor, h.reason) for h in device.history]


def _move(db: Database, name: str, target: NodeState, reason: str = "", force: bool = False) -> bool:
    with db.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == name)).one()
        return change_state(session, device, target, "tech-anna", reason, force)


def test_bring_up_one_step_at_a_time_is_recorded(rack: Database) -> None:
    for state in (S.RACKED, S.CABLED, S.POWERED):
        assert _move(rack, "gpu-r12-u03", state, f"to {state}")
    assert _history(rack, "gpu-r12-u03") == [
        (None, S.PLANNED, "tester", "created from template h100-4node-air"),
        (S.PLANNED, S.RACKED, "tech-anna", "to racked"),
        (S.RACKED, S.CABLED, "tech-anna", "to cabled"),
        (S.CABLED, S.POWERED, "tech-anna", "to powered"),
    ]


def test_a_skipped_step_is_refused_and_nothing_recorded(rack: Database, row_counts: Counts) -> None:
    before = row_counts()
    with pytest.raises(ValidationError) as caught:
        _move(rack, "gpu-r12-u03", S.IN_SERVICE)
    assert str(caught.value) == "gpu-r12-u03: cannot go from planned to in-service"
    assert caught.value.hint is not None and "--force" in caught.value.hint
    assert row_counts() == before


def test_force_records_the_jump_and_the_same_state_is_no_change(rack: Database) -> None:
    assert _move(rack, "gpu-r12-u03", S.VALIDATED, "re-racked after RMA, burn-in passed", force=True)
    assert not _move(rack, "gpu-r12-u03", S.VALIDATED)
    assert _history(rack, "gpu-r12-u03")[1:] == [
        (S.PLANNED, S.VALIDATED, "tech-anna", "re-racked after RMA, burn-in passed")
    ]


def test_failure_repair_and_decommissioning(rack: Database) -> None:
    _move(rack, "gpu-r12-u11", S.FAILED, "GPU 3 fell off the bus")
    assert _move(rack, "gpu-r12-u11", S.POWERED, "baseboard replaced")  # bring-up resumes where it fits
    _move(rack, "gpu-r12-u11", S.DECOMMISSIONED, "end of lease")
    with pytest.raises(ValidationError, match="cannot go from decommissioned to racked"):
        _move(rack, "gpu-r12-u11", S.RACKED)
    assert _move(rack, "gpu-r12-u11", S.PLANNED, "reused in r14")
    assert [h[1] for h in _history(rack, "gpu-r12-u11")] == [
        S.PLANNED,
        S.FAILED,
        S.POWERED,
        S.DECOMMISSIONED,
        S.PLANNED,
    ]


def _update(db: Database, names: list[str], changes: DeviceChanges) -> int:
    with db.transaction() as session:
        devices = [session.scalars(select(Device).where(Device.name == n)).one() for n in names]
        return update_devices(session, devices, changes, "tech-ben")


def test_update_devices_moves_many_and_records_each(rack: Database) -> None:
    nodes = [f"gpu-r12-u{u:02d}" for u in (3, 11, 19, 27)]
    assert _update(rack, nodes, DeviceChanges(state=S.RACKED, reason="rack delivered")) == 4
    with rack.transaction() as session:
        rows = session.scalars(select(StateChange).where(StateChange.actor == "tech-ben")).all()
        assert sorted(r.device.name for r in rows) == nodes
        assert {(r.from_state, r.to_state, r.reason) for r in rows} == {(S.PLANNED, S.RACKED, "rack delivered")}


def test_update_devices_checks_before_it_changes(rack: Database, row_counts: Counts) -> None:
    before = row_counts()
    with pytest.raises(ValidationError, match="--serial, --mgmt-address name\\(s\\) one device only, not 2"):
        _update(rack, ["gpu-r12-u03", "gpu-r12-u11"], DeviceChanges(serial="SN-1", mgmt_address="10.0.0.1"))
    with pytest.raises(NotFound, match="no profile named 'h200'"):
        _update(rack, ["gpu-r12-u03"], DeviceChanges(state=S.RACKED, profile="h200"))
    with pytest.raises(ConfigError, match="is not a secret reference"):
        _update(rack, ["gpu-r12-u03"], DeviceChanges(state=S.RACKED, mgmt_credential="calvin"))
    with pytest.raises(ValidationError, match="cannot go from planned to powered"):
        _update(rack, ["gpu-r12-u03", "gpu-r12-u11"], DeviceChanges(state=S.RACKED))  # fine
        _update(rack, ["gpu-r12-u19", "gpu-r12-u27"], DeviceChanges(state=S.POWERED))
    assert row_counts()["state_changes"] == before["state_changes"] + 2


def test_update_devices_identity_profile_and_management(rack: Database) -> None:
    changes = DeviceChanges(
        serial="SN-7",
        asset_tag=" ",
        profile="",
        mgmt_address="10.210.0.7",
        mgmt_port=8443,
        mgmt_protocol=MgmtProtocol.REDFISH,
        mgmt_credential="file:/etc/rackctl/bmc.pass",
    )
    assert _update(rack, ["gpu-r12-u03"], changes) == 1
    with rack.transaction() as session:
        device = session.scalars(select(Device).where(Device.name == "gpu-r12-u03")).one()
        assert (device.serial, device.asset_tag, device.profile) == ("SN-7", None, None)
        assert device.mgmt is not None
        assert (device.mgmt.address, device.mgmt.port, device.mgmt.protocol, device.mgmt.credential_ref) == (
            "10.210.0.7",
            8443,
            MgmtProtocol.REDFISH,
            "file:/etc/rackctl/bmc.pass",
        )


def test_group_names_are_ansible_safe() -> None:
    assert group_name("state", "in-service") == "state_in_service"
    assert group_name("profile", "h100-ib.v2 (test)") == "profile_h100_ib_v2__test_"
    assert group_name("rack", "r12") == "rack_r12"


def test_ansible_inventory_groups_and_hostvars(rack: Database, build: Build) -> None:
    build("p1", "h100-pod-2rack-ib")
    _move(rack, "gpu-r12-u03", S.RACKED)
    with rack.transaction() as session:
        inventory = ansible_inventory(session)
    groups = {k: v["hosts"] for k, v in inventory.items() if k not in ("_meta", "all")}
    assert inventory["all"]["children"] == ["ungrouped", *sorted(k for k in groups if k != "ungrouped")]
    assert groups["ungrouped"] == []
    assert groups["rack_r12"][:2] == ["con-r12", "gpu-r12-u03"] and len(groups["rack_r12"]) == 12
    assert len(groups["rack_p1a"]) == 13 and "ib-p1-2" in groups["rack_p1b"]
    assert groups["role_gpu_node"] == [f"gpu-{r}-u{u:02d}" for r in ("p1a", "p1b", "r12") for u in (3, 11, 19, 27)]
    assert groups["role_ib_switch"] == ["ib-p1-1", "ib-p1-2"]
    assert groups["state_racked"] == ["gpu-r12-u03"] and "gpu-r12-u03" not in groups["state_planned"]
    assert groups["profile_h100_inference"] == [f"gpu-r12-u{u:02d}" for u in (3, 11, 19, 27)]
    assert len(groups["profile_h100_ib_training_inference"]) == 8
    hostvars = inventory["_meta"]["hostvars"]
    assert set(hostvars) == {h for hosts in groups.values() for h in hosts}
    node = hostvars["gpu-r12-u03"]
    assert node["ansible_host"] == "10.100.0.10"
    assert (node["rackctl_role"], node["rackctl_rack"], node["rackctl_state"]) == ("gpu-node", "r12", "racked")
    assert (node["rackctl_gpu_model"], node["rackctl_gpu_count"]) == ("H100-SXM5-80GB", 8)
    assert node["rackctl_profile"]["nvidia_driver"] == "570.133.20"
    assert node["rackctl_profile"]["extra"]["burnin"]["dcgm_level"] == 3
    assert node["rackctl_bonds"] == [
        {"name": "bond0", "members": ["ens1f0np0", "ens1f1np1"], "mtu": 9000, "addresses": ["10.100.0.10/26"]}
    ]
    interfaces = {i["name"]: i for i in node["rackctl_interfaces"]}
    assert set(interfaces) == {"eno1", "ens1f0np0", "ens1f1np1"}  # no BMC, console or bond entries
    assert interfaces["ens1f0np0"] == {
        "name": "ens1f0np0",
        "kind": "ethernet",
        "mac": None,
        "mtu": 9000,
        "speed_mbps": 400_000,
        "sriov_vfs": 0,
        "bond": "bond0",
    }
    assert node["rackctl_mgmt"] == {"protocol": "ipmi", "address": "10.200.0.14"}
    pod_node = hostvars["gpu-p1b-u27"]
    assert sum(i["kind"] == "infiniband" for i in pod_node["rackctl_interfaces"]) == 8
    leaf = hostvars["leaf-r12-a"]
    assert "ansible_host" not in leaf and leaf["rackctl_profile"] is None and leaf["rackctl_bonds"] == []


def test_ansible_inventory_of_some_targets(rack: Database) -> None:
    with rack.transaction() as session:
        inventory = ansible_inventory(session, ["gpu-r12-u11", "leaf-r12-a"])
    assert set(inventory["_meta"]["hostvars"]) == {"gpu-r12-u11", "leaf-r12-a"}
    assert inventory["rack_r12"]["hosts"] == ["gpu-r12-u11", "leaf-r12-a"]
    assert inventory["all"]["children"] == [
        "ungrouped",
        "profile_h100_inference",
        "rack_r12",
        "role_gpu_node",
        "role_leaf",
        "state_planned",
    ]
    with rack.transaction() as session:
        assert ansible_inventory(session, [])["_meta"]["hostvars"] == {}
