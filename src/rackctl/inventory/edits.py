"""Changes a technician makes to devices by hand: state, profile, identity, management endpoint."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory import queries
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device, ManagementEndpoint
from rackctl.inventory.names import check_address, check_text, check_token
from rackctl.secrets import check_reference
from rackctl.types import MgmtProtocol, NodeState

_ONE_DEVICE_ONLY = ("serial", "asset_tag", "mgmt_address", "mgmt_port")


@dataclass(frozen=True)
class DeviceChanges:
    """What to change; None leaves a field as it is, an empty string clears it."""

    state: NodeState | None = None
    reason: str = ""
    force: bool = False
    serial: str | None = None
    asset_tag: str | None = None
    profile: str | None = None
    mgmt_address: str | None = None
    mgmt_port: int | None = None
    mgmt_protocol: MgmtProtocol | None = None
    mgmt_username: str | None = None
    mgmt_credential: str | None = None

    def touches_mgmt(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name.startswith("mgmt_"))


def update_devices(session: Session, devices: list[Device], changes: DeviceChanges, actor: str) -> int:
    """Apply the changes to every device; returns how many changed. Checks everything first."""
    if len(devices) > 1:
        given = [f"--{f.replace('_', '-')}" for f in _ONE_DEVICE_ONLY if getattr(changes, f) is not None]
        if given:
            raise ValidationError(f"{', '.join(given)} name(s) one device only, not {len(devices)}")
    _check_values(changes)
    if changes.mgmt_credential:
        check_reference(changes.mgmt_credential, "--mgmt-credential")
    profile = queries.profile(session, changes.profile) if changes.profile else None
    return sum(_update(session, d, changes, profile, actor) for d in devices)


def _check_values(changes: DeviceChanges) -> None:
    """The name rule on every value given, before any device is touched."""
    check_text(changes.reason, "--reason", limit=512)
    for name in ("serial", "asset_tag"):
        value = getattr(changes, name)
        if value and value.strip():
            check_token(value.strip(), f"--{name.replace('_', '-')}")
    if changes.mgmt_username:
        check_token(changes.mgmt_username, "--mgmt-username")
    if changes.mgmt_address is not None:
        check_address(changes.mgmt_address, "--mgmt-address")


def _update(session: Session, device: Device, changes: DeviceChanges, profile: object, actor: str) -> bool:
    changed = False
    if changes.state is not None:
        changed |= change_state(session, device, changes.state, actor, changes.reason, changes.force)
    if changes.profile is not None:
        device.profile = profile  # type: ignore[assignment]
        changed = True
    for name in ("serial", "asset_tag"):
        value = getattr(changes, name)
        if value is not None:
            setattr(device, name, value.strip() or None)
            changed = True
    if changes.touches_mgmt():
        _update_mgmt(device, changes)
        changed = True
    return changed


def _update_mgmt(device: Device, changes: DeviceChanges) -> None:
    mgmt = device.mgmt or ManagementEndpoint(address="", protocol=MgmtProtocol.AUTO)
    device.mgmt = mgmt
    if changes.mgmt_address is not None:
        mgmt.address = changes.mgmt_address
    if changes.mgmt_port is not None:
        mgmt.port = changes.mgmt_port
    if changes.mgmt_protocol is not None:
        mgmt.protocol = changes.mgmt_protocol
        mgmt.detected_protocol = None
    if changes.mgmt_username is not None:
        mgmt.username = changes.mgmt_username
    if changes.mgmt_credential is not None:
        mgmt.credential_ref = changes.mgmt_credential
