"""Plain dictionaries describing inventory objects, for tables and `--json` alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import object_session

from rackctl.inventory import powermodel as pm
from rackctl.inventory.models import Cable, Device, Interface
from rackctl.types import DeviceRole


def mgmt_summary(device: Device) -> str:
    mgmt = device.mgmt
    if mgmt is None or not mgmt.address:
        return ""
    port = f":{mgmt.port}" if mgmt.port else ""
    return f"{mgmt.effective_protocol.value}://{mgmt.address}{port}"


def device_row(device: Device) -> dict[str, Any]:
    return {
        "name": device.name,
        "rack": device.rack.name if device.rack else None,
        "u": device.position,
        "role": device.role.value,
        "type": device.device_type.slug,
        "state": device.state.value,
        "profile": device.profile.name if device.profile else None,
        "serial": device.serial,
        "mgmt": mgmt_summary(device),
    }


def _peer(interface: Interface, cables: dict[int, Cable]) -> str | None:
    cable = cables.get(interface.id)
    return cable.far_end(interface).label if cable else None


def describe_device(device: Device) -> dict[str, Any]:
    session = object_session(device)
    ids = [i.id for i in device.interfaces]
    cables: dict[int, Cable] = {}
    if session is not None and ids:
        for cable in session.scalars(select(Cable).where(or_(Cable.a_id.in_(ids), Cable.b_id.in_(ids)))):
            cables[cable.a_id if cable.a_id in ids else cable.b_id] = cable
    mgmt = device.mgmt
    return {
        **device_row(device),
        "face": device.face.value,
        "asset_tag": device.asset_tag,
        "platform": device.platform,
        "facts": device.facts or {},
        "draw_w": pm.draw_w(device),
        "gpus": f"{device.device_type.gpu_count}x {device.device_type.gpu_model}"
        if device.device_type.gpu_count
        else None,
        "mgmt": {
            "protocol": mgmt.protocol.value,
            "detected": mgmt.detected_protocol.value if mgmt.detected_protocol else None,
            "address": mgmt.address,
            "port": mgmt.port,
            "username": mgmt.username,
            "credential": mgmt.credential_ref,
            "verify_tls": mgmt.verify_tls,
            "scheme": (mgmt.options or {}).get("scheme"),
            "tls_fingerprint": (mgmt.options or {}).get("tls_fingerprint"),
            **({"pdu_unit": (mgmt.options or {}).get("unit", 1)} if device.role == DeviceRole.PDU else {}),
        }
        if mgmt
        else None,
        "interfaces": [
            {
                "name": i.name,
                "kind": i.kind.value,
                "speed_mbps": i.speed_mbps,
                "mac": i.mac,
                "mtu": i.mtu,
                "bond": i.bond.name if i.bond else None,
                "addresses": [a.cidr for a in i.addresses],
                "peer": _peer(i, cables),
            }
            for i in device.interfaces
        ],
        "power_ports": [
            {
                "name": p.name,
                "maximum_draw_w": p.maximum_draw_w,
                "outlet": p.outlet.label if p.outlet else None,
                "feed": p.outlet.feed if p.outlet else None,
                "phase": p.outlet.phase if p.outlet else None,
            }
            for p in device.power_ports
        ],
        "history": [
            {
                "at": h.at.isoformat(timespec="seconds"),
                "from": h.from_state.value if h.from_state else None,
                "to": h.to_state.value,
                "actor": h.actor,
                "reason": h.reason,
            }
            for h in device.history
        ],
    }
