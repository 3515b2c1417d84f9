"""Build racks from a checked template: racks, feeds, profiles, devices by U, then the wiring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.config import Settings, load_settings
from rackctl.drivers.pdu_families import AUTO
from rackctl.errors import Conflict, NotFound, ValidationError
from rackctl.inventory import bulk, fields, queries
from rackctl.inventory.bulk import Part
from rackctl.inventory.components import Components, components_by_type
from rackctl.inventory.lifecycle import record_initial_state
from rackctl.inventory.models import (
    Device,
    DeviceType,
    Interface,
    ManagementEndpoint,
    PduOutlet,
    PowerFeed,
    PowerPort,
    Profile,
    Rack,
    Site,
)
from rackctl.inventory.names import check_name
from rackctl.inventory.platforms import check_platform
from rackctl.inventory.templates.addressing import assign_addresses
from rackctl.inventory.templates.expr import PatternError, render
from rackctl.inventory.templates.loader import RackTemplate, rack_numbers
from rackctl.inventory.templates.wiring import build_bonds, build_breakouts, build_cables, build_power
from rackctl.secrets import REFERENCE_OPTIONS, check_reference
from rackctl.types import DeviceRole, Face, MgmtProtocol, NodeState


@dataclass
class Built:
    """Devices made from the template, in template order, with the template entry each came from.

    Racks, feeds and devices are ORM objects; the many rows of their components (interfaces, power ports,
    outlets, addresses, cables) are Parts, planned here and written in bulk at the end (inventory/bulk.py).
    """

    session: Session
    template: RackTemplate
    pod: str
    racks: list[Rack] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    entry_of: dict[str, int] = field(default_factory=dict)
    site: str = ""
    cabled: set[Part] = field(default_factory=set)
    parts: list[Part] = field(default_factory=list)
    interfaces: dict[str, dict[str, Part]] = field(default_factory=dict)  # device name -> interface name -> row
    power_ports: dict[str, list[Part]] = field(default_factory=dict)
    outlets: dict[str, list[Part]] = field(default_factory=dict)
    components: dict[int, Components] = field(default_factory=dict)  # what each device type gives, by its id

    @cached_property
    def settings(self) -> Settings:
        """The settings the references are checked against, read once per build (not once per device)."""
        return load_settings()

    def add(self, model: type[Any], **values: Any) -> Part:
        """Plan one component row (written with the others at the end)."""
        part = Part(model, values)
        self.parts.append(part)
        return part

    def interface(self, device: Device, name: str) -> Part | None:
        return self.interfaces.get(device.name, {}).get(name)

    def add_components(self, device: Device, dtype: DeviceType) -> None:
        """Plan the interfaces, power ports and outlets the device's type declares."""
        interfaces, ports, outlets = self.components[dtype.id]
        named = self.interfaces.setdefault(device.name, {})
        for values in interfaces:
            named.setdefault(values["name"], self.add(Interface, device_id=device, **values))
        self.power_ports[device.name] = [self.add(PowerPort, device_id=device, **values) for values in ports]
        self.outlets[device.name] = [self.add(PduOutlet, pdu_id=device, **values) for values in outlets]

    def variables(self, device: Device, **more: Any) -> dict[str, Any]:
        rack = device.rack.name if device.rack else ""
        return {"rack": rack, "pod": self.pod, "site": self.site, "u": device.position or 0, **more}

    def render(self, pattern: str, variables: dict[str, Any], *where: str | int) -> str:
        try:
            return render(pattern, variables)
        except PatternError as exc:
            raise ValidationError(str(exc), self.template.where(*where)) from None

    def render_name(self, pattern: str, variables: dict[str, Any], *where: str | int) -> str:
        """A name the template makes (a device's), held to the name rule where the pattern is written."""
        return check_name(
            self.render(pattern, variables, *where), f"{str(where[0]).rstrip('s')} name", self.template.where(*where)
        )


def create_racks(
    session: Session, template: RackTemplate, name: str, site_name: str, actor: str, pod: str | None = None
) -> Built:
    """Create every rack of the template under `name`, in `pod` (default: the template's `pod:` pattern);
    the caller's transaction makes it atomic."""
    site = session.scalars(select(Site).where(Site.name == site_name)).one_or_none()
    if site is None:
        raise NotFound(f"no site named '{site_name}'", hint="rackctl site add NAME")
    check_name(name, "rack name")
    built = Built(session, template, name, site=site.name)
    pod = check_name(pod, "--pod") if pod is not None else _pod_name(template, name, site.name)
    built.racks = [_rack(session, template, site, rack_name, pod) for rack_name in _rack_names(template, name)]
    profiles = _profiles(session, template)
    types = _device_types(session, template)
    built.components = components_by_type(session, types.values())
    # One flush for the whole build, at the end: with autoflush every query and lazy load on the way
    # (name checks, device types' components) wrote the build so far, a dozen flushes per rack.
    with session.no_autoflush:
        for index, entry in enumerate(template.data["devices"]):
            for rack_number in rack_numbers(entry):
                for u in _positions(entry):
                    rack = built.racks[rack_number - 1]
                    built.devices.append(_device(session, built, index, entry, rack, u, types, profiles))
        _refuse_taken_names(session, built)
        for device in built.devices:
            record_initial_state(session, device, actor, f"created from template {template.name}")
        build_bonds(built)
        assign_addresses(session, built)
        build_breakouts(built)
        build_cables(built)
        build_power(built)
    session.flush()
    bulk.write(session, built.parts)  # after the flush: the component rows refer to the devices' ids
    return built


def _rack_names(template: RackTemplate, name: str) -> list[str]:
    entries = template.data.get("racks") or [{"name": "{pod}"}]
    return [
        check_name(render(entry["name"], {"pod": name}), "rack name", template.where("racks", index, "name"))
        for index, entry in enumerate(entries)
    ]


def _pod_name(template: RackTemplate, name: str, site: str) -> str | None:
    pattern = template.data.get("pod")
    if pattern is None:
        return None
    return check_name(render(pattern, {"pod": name, "site": site}), "pod name", template.where("pod"))


def _rack(session: Session, template: RackTemplate, site: Site, name: str, pod: str | None) -> Rack:
    if session.scalars(select(Rack).where(Rack.name == name)).first():
        raise Conflict(f"rack '{name}' already exists")
    spec = template.data["rack"]
    rack = Rack(
        name=name,
        site=site,
        u_height=spec.get("u_height", 42),
        power_capacity_kw=spec["power_capacity_kw"],
        cooling_kind=spec["cooling"]["kind"],
        cooling_limit_kw=spec["cooling"]["limit_kw"],
        template=template.name,
        pod=pod,
    )
    rack.feeds = [
        PowerFeed(
            name=f["name"],
            voltage=f["voltage"],
            amperage=f["amperage"],
            phases=f.get("phases", 3),
            max_utilisation=f.get("max_utilisation", 0.8),
        )
        for f in spec["feeds"]
    ]
    session.add(rack)
    return rack


def _profiles(session: Session, template: RackTemplate) -> dict[str, Profile]:
    found = {}
    for name, values in (template.data.get("profiles") or {}).items():
        profile = session.scalars(select(Profile).where(Profile.name == name)).one_or_none()
        if profile is None:
            profile = Profile(name=name, **{k: v for k, v in values.items()})
            session.add(profile)
        found[name] = profile
    return found


def _device_types(session: Session, template: RackTemplate) -> dict[str, DeviceType]:
    slugs = {entry["type"] for entry in template.data["devices"]}
    types = {t.slug: t for t in session.scalars(select(DeviceType).where(DeviceType.slug.in_(slugs)))}
    for index, entry in enumerate(template.data["devices"]):
        if entry["type"] not in types:
            raise ValidationError(
                f"unknown device type '{entry['type']}'",
                template.where("devices", index, "type"),
                hint="rackctl devicetype import PATH (rackctl init imports the shipped ones)",
            )
    return types


def _positions(entry: dict[str, Any]) -> list[int | None]:
    u = entry.get("u")
    if u is None:
        return [None]
    return list(u) if isinstance(u, list) else [u]


def _device(
    session: Session,
    built: Built,
    index: int,
    entry: dict[str, Any],
    rack: Rack,
    u: int | None,
    types: dict[str, DeviceType],
    profiles: dict[str, Profile],
) -> Device:
    count = sum(1 for d in built.devices if built.entry_of.get(d.name) == index and d.rack is rack)
    variables = {"rack": rack.name, "pod": built.pod, "site": built.site, "u": u or 0, "i": count + 1}
    name = built.render_name(entry["name"], variables, "devices", index, "name")
    if name in built.entry_of:
        raise _taken(built, index, name)
    device = _new_device(built, index, entry, rack, u, name, types[entry["type"]], profiles)
    session.add(device)
    built.entry_of[name] = index
    return device


def _refuse_taken_names(session: Session, built: Built) -> None:
    """One query for every new name (the build's own duplicates were refused as they came)."""
    for batch in queries.in_batches(list(built.entry_of)):
        taken = session.scalars(select(Device.name).where(Device.name.in_(batch))).first()
        if taken is not None:
            raise _taken(built, built.entry_of[taken], taken)


def _taken(built: Built, index: int, name: str) -> Conflict:
    return Conflict(f"{built.template.where('devices', index, 'name')}: device name '{name}' is already taken")


def _new_device(
    built: Built,
    index: int,
    entry: dict[str, Any],
    rack: Rack,
    u: int | None,
    name: str,
    dtype: DeviceType,
    profiles: dict[str, Profile],
) -> Device:
    device = Device(
        name=name,
        rack=rack,
        position=u,
        face=Face(entry.get("face", Face.REAR if u is None else Face.FRONT)),
        device_type=dtype,
        state=NodeState.PLANNED,  # set now, not at the flush: the lifecycle record is written before it
        role=DeviceRole(entry["role"]),
        platform=_platform(entry),
        profile=profiles.get(entry.get("profile", "")),
    )
    _check_space(built, index, device)
    if "feed" in entry:
        device.power_feed = next(f for f in rack.feeds if f.name == entry["feed"])
    built.add_components(device, dtype)
    if "management" in entry:
        device.mgmt = _management(entry["management"], built, index)
    return device


def _platform(entry: dict[str, Any]) -> str | None:
    """The template's platform, checked for the role; a PDU without one detects its MIB family (auto)."""
    role = DeviceRole(entry["role"])
    if entry.get("platform"):
        return check_platform(role, str(entry["platform"]), f"device '{entry.get('name', '?')}' platform")
    return AUTO if role == DeviceRole.PDU else None


def _management(spec: dict[str, Any], built: Built, index: int) -> ManagementEndpoint:
    credential = spec.get("credential", "")
    if credential:
        where = built.template.where("devices", index, "management", "credential")
        check_reference(credential, str(where), built.settings)
    for key in REFERENCE_OPTIONS:  # the SNMPv3 privacy key and the enable secret are references too
        if (spec.get("options") or {}).get(key):
            where = built.template.where("devices", index, "management", "options", key)
            check_reference(str(spec["options"][key]), str(where), built.settings)
    options = dict(spec.get("options") or {})
    checks: tuple[tuple[str, Callable[[str, Any], object]], ...] = (
        ("tls_fingerprint", fields.tls_fingerprint),
        ("scheme", fields.redfish_scheme),
        ("unit", fields.pdu_unit),  # a PDU's position in its daisy chain
    )
    for key, check in checks:
        if options.get(key) not in (None, ""):  # the checks `device set` applies, kept as it stores them
            where = built.template.where("devices", index, "management", "options", key)
            options[key] = check(str(options[key]), where)
    return ManagementEndpoint(
        protocol=MgmtProtocol(spec["protocol"]),
        address="",  # filled from the management pool, or by hand, or by the lab
        port=spec.get("port"),
        username=spec.get("username", ""),
        credential_ref=credential,
        verify_tls=spec.get("verify_tls", True),
        options=options,
    )


def _check_space(built: Built, index: int, device: Device) -> None:
    """Refuse a device that leaves the rack or lands on another's units (same face or full depth)."""
    if device.position is None:
        return
    rack = device.rack
    assert rack is not None
    top = device.units.stop - 1
    where = built.template.where("devices", index, "u")
    if top > rack.u_height:
        raise ValidationError(
            f"{device.name} needs U{device.position}-U{top}, rack {rack.name} has {rack.u_height}U", where
        )
    for other in built.devices:
        if other.rack is rack and set(other.units) & set(device.units) and _faces_clash(other, device):
            raise ValidationError(
                f"{device.name} at U{device.position} overlaps {other.name} "
                f"(U{other.position}-U{other.units.stop - 1})",
                where,
            )


def _faces_clash(a: Device, b: Device) -> bool:
    return a.face == b.face or a.device_type.is_full_depth or b.device_type.is_full_depth
