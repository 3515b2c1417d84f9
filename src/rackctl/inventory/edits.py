"""Changes a technician makes by hand: a device's state, profile, identity, management endpoint; a rack's pod."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy.orm import Session

from rackctl.errors import Location, ValidationError
from rackctl.inventory import fields as checks
from rackctl.inventory import queries
from rackctl.inventory.lifecycle import change_state
from rackctl.inventory.models import Device, ManagementEndpoint, Rack
from rackctl.inventory.names import check_name, check_text, check_token
from rackctl.inventory.platforms import check_platform
from rackctl.secrets import check_reference
from rackctl.types import DeviceRole, MgmtProtocol, NodeState

_ONE_DEVICE_ONLY = ("serial", "asset_tag", "mgmt_address", "mgmt_port")
_MGMT_FIELDS = ("mgmt_", "tls_fingerprint", "redfish_scheme", "pdu_unit")


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
    platform: str | None = None  # '' clears it (a PDU then detects its family: auto)
    # Redfish: the BMC certificate's SHA-256 pin ('' removes it) and https/http (endpoint options).
    tls_fingerprint: str | None = None
    redfish_scheme: str | None = None
    pdu_unit: int | str | None = None  # which unit of a PDU daisy chain the device's outlets are (endpoint option)

    def touches_mgmt(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self) if f.name.startswith(_MGMT_FIELDS))

    def given(self) -> list[str]:
        """The options given, as typed (`--serial`)."""
        skip = {"reason", "force"}
        return [
            f"--{f.name.replace('_', '-')}"
            for f in fields(self)
            if f.name not in skip and getattr(self, f.name) is not None
        ]


def update_devices(session: Session, devices: list[Device], changes: DeviceChanges, actor: str) -> int:
    """Apply the changes to every device; returns how many changed. Checks everything first."""
    if not changes.given():
        raise ValidationError(
            "nothing to change",
            hint="give --state, --profile, --serial, --asset-tag, --platform, a --mgmt-... option, --tls-fingerprint,"
            " --redfish-scheme or --pdu-unit",
        )
    if len(devices) > 1:
        given = [f"--{f.replace('_', '-')}" for f in _ONE_DEVICE_ONLY if getattr(changes, f) is not None]
        given += ["--tls-fingerprint"] if changes.tls_fingerprint else []  # one BMC's certificate; clearing: any
        if given:
            raise ValidationError(f"{', '.join(given)} name(s) one device only, not {len(devices)}")
    _check_values(session, devices, changes)
    profile = queries.profile(session, changes.profile) if changes.profile else None
    return sum(_update(session, d, changes, profile, actor) for d in devices)


def _check_values(session: Session, devices: list[Device], changes: DeviceChanges) -> None:
    """The rules `import csv` applies to the same values: one validation for every write path."""
    check_text(changes.reason, "--reason", limit=512)
    for name in ("serial", "asset_tag", "mgmt_username"):
        value = getattr(changes, name)
        if value and value.strip():
            check_token(value.strip() if name != "mgmt_username" else value, f"--{name.replace('_', '-')}")
    if changes.mgmt_credential:
        check_reference(changes.mgmt_credential, "--mgmt-credential")
    if changes.platform and changes.platform.strip():
        for device in devices:
            check_platform(device.role, changes.platform)
    if changes.pdu_unit is not None and (other := next((d for d in devices if d.role != DeviceRole.PDU), None)):
        raise ValidationError(f"--pdu-unit: {other.name} is not a PDU")
    endpoint_options(changes)
    if changes.mgmt_port is not None:
        checks.port(changes.mgmt_port, Location(field="--mgmt-port"))
    if changes.mgmt_address is not None:
        checks.ip_address(changes.mgmt_address, Location(field="--mgmt-address"))
    elif changes.touches_mgmt() and any(d.mgmt is None or not d.mgmt.address for d in devices):
        raise ValidationError(
            f"{devices[0].name} has no management address", hint="give --mgmt-address with the other --mgmt-... options"
        )
    unique = {"serial": changes.serial, "asset_tag": changes.asset_tag, "bmc_address": changes.mgmt_address}
    taken = checks.owners(session) if any(v for v in unique.values()) else {}
    for kind, value in unique.items():
        if value and value.strip():
            where = Location(field="--" + ("mgmt-address" if kind == "bmc_address" else kind.replace("_", "-")))
            checks.free(taken, kind, value.strip(), devices[0].name, where)


def _update(session: Session, device: Device, changes: DeviceChanges, profile: object, actor: str) -> bool:
    changed = False
    if changes.state is not None:
        changed |= change_state(session, device, changes.state, actor, changes.reason, changes.force)
    if changes.profile is not None:
        changed |= _assign(device, "profile", profile)
    if changes.platform is not None:
        platform = check_platform(device.role, changes.platform) if changes.platform.strip() else None
        changed |= _assign(device, "platform", platform)
    for name in ("serial", "asset_tag"):
        value = getattr(changes, name)
        if value is not None:
            changed |= _assign(device, name, value.strip() or None)
    if changes.touches_mgmt():
        changed |= _update_mgmt(device, changes)
    return changed


def _assign(target: object, name: str, value: object) -> bool:
    """Set an attribute; whether that changed it."""
    if getattr(target, name) == value:
        return False
    setattr(target, name, value)
    return True


def endpoint_options(changes: DeviceChanges) -> dict[str, str | int | None]:
    """The endpoint options the changes set, checked (None: the option is removed)."""
    wanted: dict[str, str | int | None] = {}
    if changes.tls_fingerprint is not None:
        pin = changes.tls_fingerprint
        wanted["tls_fingerprint"] = checks.tls_fingerprint(pin, Location(field="--tls-fingerprint")) if pin else None
    if changes.redfish_scheme is not None:
        wanted["scheme"] = checks.redfish_scheme(changes.redfish_scheme, Location(field="--redfish-scheme"))
    if changes.pdu_unit is not None:
        wanted["unit"] = checks.pdu_unit(changes.pdu_unit, Location(field="--pdu-unit"))
    return wanted


def _update_mgmt(device: Device, changes: DeviceChanges) -> bool:
    mgmt = device.mgmt or ManagementEndpoint(address="", protocol=MgmtProtocol.AUTO)
    changed = device.mgmt is None
    device.mgmt = mgmt
    wanted = {
        "address": changes.mgmt_address.strip() if changes.mgmt_address is not None else None,
        "port": changes.mgmt_port,
        "protocol": changes.mgmt_protocol,
        "username": changes.mgmt_username,
        "credential_ref": changes.mgmt_credential,
    }
    for name, value in wanted.items():
        if value is not None:
            changed |= _assign(mgmt, name, value)
    options = {**(mgmt.options or {}), **endpoint_options(changes)}
    # A new dict, not an edit in place: SQLAlchemy (and so the change log) sees only a replaced JSON value.
    changed |= _assign(mgmt, "options", {k: v for k, v in options.items() if v is not None})
    if changes.mgmt_protocol is not None and changed:
        mgmt.detected_protocol = None
    return changed


def set_pod(rack: Rack, pod: str) -> tuple[str | None, str | None]:
    """Put `rack` in pod `pod` ('' takes it out of any); (before, after)."""
    before = rack.pod
    rack.pod = check_name(pod, "--pod") if pod else None
    return before, rack.pod
