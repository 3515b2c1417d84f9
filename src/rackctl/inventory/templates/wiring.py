"""The template's wiring: bonds, cables (with patterns like `Ethernet{n}/1`) and power (PSUs over feeds)."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rackctl.errors import Conflict, ValidationError
from rackctl.inventory.bulk import Part
from rackctl.inventory.models import Cable, Device, Interface
from rackctl.inventory.names import check_text
from rackctl.inventory.templates.expr import expand_values
from rackctl.types import DeviceRole, InterfaceKind

if TYPE_CHECKING:
    from rackctl.inventory.templates.build import Built


def _roles(spec: Any) -> set[str]:
    return {spec} if isinstance(spec, str) else set(spec)


def build_bonds(built: Built) -> None:
    for index, rule in enumerate(built.template.data.get("bonds") or []):
        for device in (d for d in built.devices if d.role in _roles(rule["role"])):
            bond = built.add(
                Interface, device_id=device, name=rule["name"], kind=InterfaceKind.BOND, mtu=rule.get("mtu")
            )
            built.interfaces[device.name].setdefault(rule["name"], bond)
            for member_name in rule["members"]:
                member = built.interface(device, member_name)
                if member is None:
                    raise ValidationError(
                        f"{device.name} has no interface '{member_name}'",
                        built.template.where("bonds", index, "members"),
                    )
                member["bond_id"] = bond
                member["mtu"] = rule.get("mtu", member["mtu"])


def _matches(built: Built, rule_from: dict[str, Any], device: Device, index: int) -> bool:
    if "role" in rule_from and device.role not in _roles(rule_from["role"]):
        return False
    if "device" in rule_from:
        wanted = built.render(rule_from["device"], built.variables(device), "cabling", index, "from", "device")
        return device.name == wanted
    return True


def _loops(spec: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not spec:
        return [{}]
    names = list(spec)
    return [
        dict(zip(names, combo, strict=True)) for combo in itertools.product(*(expand_values(spec[n]) for n in names))
    ]


def build_breakouts(built: Built) -> None:
    """Mark the switch ports the template splits (`breakouts:`), e.g. Ethernet29/1 as 4x100g."""
    for index, rule in enumerate(built.template.data.get("breakouts") or []):
        for device in built.devices:
            if built.render(rule["device"], built.variables(device), "breakouts", index, "device") != device.name:
                continue
            for loop in _loops(rule.get("each")):
                variables = built.variables(device, **loop)
                name = built.render(rule["port"], variables, "breakouts", index, "port")
                port = built.interface(device, name)
                if port is None:
                    where = built.template.where("breakouts", index, "port")
                    raise ValidationError(f"{device.name} has no port '{name}'", where)
                port["breakout"] = rule["mode"]


def build_cables(built: Built) -> None:
    by_name = {d.name: d for d in built.devices}
    for index, rule in enumerate(built.template.data.get("cabling") or []):
        sources = [d for d in built.devices if _matches(built, rule["from"], d, index)]
        per_rack: dict[str, int] = defaultdict(int)
        for n, device in enumerate(sources, start=1):
            per_rack[device.rack.name if device.rack else ""] += 1
            for loop in _loops(rule.get("each")):
                variables = built.variables(
                    device, n=n, i=per_rack[device.rack.name if device.rack else ""], name=device.name, **loop
                )
                _cable(built, by_name, index, rule, device, variables)


def _cable(
    built: Built,
    by_name: dict[str, Device],
    index: int,
    rule: dict[str, Any],
    device: Device,
    variables: dict[str, Any],
) -> None:
    where = built.template.where("cabling", index)
    a_name = built.render(rule["from"]["interface"], variables, "cabling", index, "from", "interface")
    far_name = built.render(rule["to"]["device"], variables, "cabling", index, "to", "device")
    b_name = built.render(rule["to"]["interface"], variables, "cabling", index, "to", "interface")
    far = by_name.get(far_name)
    if far is None:
        raise ValidationError(f"cable from {device.name}: no device '{far_name}' in this template", where)
    a, b = built.interface(device, a_name), built.interface(far, b_name)
    if a is None or b is None:
        missing = f"{device.name}:{a_name}" if a is None else f"{far.name}:{b_name}"
        raise ValidationError(f"no interface {missing}", where)
    for end in (a, b):
        if end in built.cabled:
            raise Conflict(f"{where}: {end['device_id'].name}:{end['name']} is cabled twice")
        built.cabled.add(end)
    label = None
    if "label" in rule:
        label = built.render(rule["label"], variables, "cabling", index, "label")
        check_text(label, "cable label", built.template.where("cabling", index, "label"), limit=64)
    built.add(Cable, a_id=a, b_id=b, kind=rule["kind"], length_m=rule.get("length_m"), label=label)


# IEC 60320 inlets mate with the outlet numbered one below: C14 into C13, C20 into C19.
_IEC = re.compile(r"^iec-60320-c(\d+)$")


def _mates(port: Part, outlet: Part) -> bool:
    plug, socket = _iec(port["type"]), _iec(outlet["type"])
    return plug is None or socket is None or plug == socket + 1


@lru_cache(maxsize=256)
def _iec(connector: str | None) -> int | None:
    """The IEC 60320 number of a connector type (`iec-60320-c13`: 13), None for other kinds."""
    found = _IEC.match(connector or "")
    return int(found.group(1)) if found else None


def _port_draw(port: Part) -> int:
    return port["maximum_draw_w"] or 0


def build_power(built: Built) -> None:
    """Plug PSUs into PDUs: alternate feeds per PSU, rotate over a feed's PDUs, balance phases."""
    spec = built.template.data.get("power")
    if not spec:
        return
    feeds = sorted(spec["pdus"])
    by_name = {d.name: d for d in built.devices}
    turn: dict[tuple[str, str], int] = defaultdict(int)
    phase_load: dict[tuple[str, str | None], int] = defaultdict(int)
    for device in (d for d in built.devices if d.role != DeviceRole.PDU and built.power_ports[d.name]):
        for k, port in enumerate(built.power_ports[device.name]):
            feed = feeds[k % len(feeds)]
            names = [built.render(p, built.variables(device), "power", "pdus", feed) for p in spec["pdus"][feed]]
            key = (device.rack.name if device.rack else "", feed)
            pdu_name = names[turn[key] % len(names)]
            turn[key] += 1
            pdu = by_name.get(pdu_name)
            if pdu is None or pdu.role != DeviceRole.PDU:
                raise ValidationError(
                    f"'{pdu_name}' is not a PDU of this template", built.template.where("power", "pdus", feed)
                )
            outlet = _pick_outlet(built.outlets[pdu.name], pdu.name, port, phase_load)
            if outlet is None:
                raise ValidationError(
                    f"{pdu.name} has no free outlet for {device.name} {port['name']}",
                    built.template.where("power", "pdus", feed),
                )
            outlet["power_port_id"] = port
            phase_load[(pdu.name, outlet["phase"])] += _port_draw(port)


def _pick_outlet(
    outlets: list[Part], pdu: str, port: Part, phase_load: dict[tuple[str, str | None], int]
) -> Part | None:
    free = [o for o in outlets if o["power_port_id"] is None and _mates(port, o)]
    if not free:
        return None
    return min(free, key=lambda o: (phase_load[(pdu, o["phase"])], o["number"]))
