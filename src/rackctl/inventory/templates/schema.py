"""The JSON Schema every rack template is checked against before anything is built from it."""

from __future__ import annotations

from typing import Any

from rackctl.inventory.models.profile import PROFILE_FIELDS, Profile
from rackctl.types import CoolingKind, DeviceRole, Face, MgmtProtocol

_NAME_PATTERN = {"type": "string", "minLength": 1, "maxLength": 128}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_ROLE = {"enum": [r.value for r in DeviceRole]}
_ROLES = {"anyOf": [_ROLE, {"type": "array", "items": _ROLE, "minItems": 1}]}
_INT32 = 2**31 - 1  # what an INTEGER column holds on every backend
# Secret references (rackctl.secrets checks them further): the schema only keeps literals out.
REFERENCE_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+|cred:[A-Za-z0-9_][A-Za-z0-9_.@-]*)$"
_LOOP = {"type": "object", "additionalProperties": {"type": ["array", "string", "integer"]}}

_MANAGEMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["protocol"],
    "properties": {
        "protocol": {"enum": [p.value for p in MgmtProtocol]},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "username": {"type": "string", "maxLength": 64},
        "credential": {"type": "string", "maxLength": 512, "pattern": REFERENCE_PATTERN},
        "verify_tls": {"type": "boolean"},
        "options": {"type": "object"},
    },
}

_DEVICE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "type", "role"],
    "properties": {
        "name": _NAME_PATTERN,
        "type": {"type": "string"},
        "role": _ROLE,
        "rack": {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
            ]
        },
        "u": {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
            ]
        },
        "face": {"enum": [f.value for f in Face]},
        "feed": {"type": "string"},
        "platform": {"type": "string", "maxLength": 32},
        "profile": {"type": "string"},
        "management": _MANAGEMENT,
    },
}

_CABLE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from", "to", "kind"],
    "properties": {
        "from": {
            "type": "object",
            "additionalProperties": False,
            "required": ["interface"],
            "properties": {"role": _ROLES, "device": _NAME_PATTERN, "interface": _NAME_PATTERN},
        },
        "to": {
            "type": "object",
            "additionalProperties": False,
            "required": ["device", "interface"],
            "properties": {"device": _NAME_PATTERN, "interface": _NAME_PATTERN},
        },
        "each": _LOOP,
        "kind": {"type": "string", "maxLength": 32},
        "length_m": _POSITIVE,
        "label": _NAME_PATTERN,
    },
}

_BREAKOUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["device", "port", "mode"],
    "properties": {
        "device": _NAME_PATTERN,
        "port": _NAME_PATTERN,
        "each": _LOOP,
        "mode": {"type": "string", "pattern": "^[1-8]x(10|25|50|100|200|400|800)g$"},
    },
}

_POOL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["network", "prefix"],
    "properties": {
        "network": {"type": "string"},
        "prefix": {"type": "integer", "minimum": 8, "maximum": 30},
        "first": {"type": "integer", "minimum": 1},
        "interface": {"type": "string"},
        "roles": _ROLES,
    },
}


def _profile_value(name: str) -> dict[str, Any]:
    """A profile setting must fit its column: a whole number, or a string no longer than the column."""
    column_type = Profile.__table__.columns[name].type
    if column_type.python_type is int:
        return {"type": ["integer", "null"], "minimum": 0, "maximum": _INT32}
    return {"type": ["string", "null"], "maxLength": getattr(column_type, "length", None) or 255}


_SWITCH = {"anyOf": [{"type": "boolean"}, {"enum": ["on", "off", "enabled", "disabled"]}]}
_FIRMWARE_IMAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"type": "string", "minLength": 1, "maxLength": 64},
        # An absolute file path or an http(s) URL; rackctl serves or fetches it and checks the sha256 first.
        "image": {"type": "string", "pattern": "^(/|https?://)[^\\s]+$", "maxLength": 1024},
        "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "match": {"type": "string", "minLength": 1, "maxLength": 200},
        "via": {"enum": ["simple", "push"]},
    },
    "dependentRequired": {"image": ["sha256"]},
}
_FIRMWARE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {kind: _FIRMWARE_IMAGE for kind in ("bmc", "bios", "cpld", "gpu", "nic", "psu")},
}
_BIOS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **{intent: _SWITCH for intent in ("sriov", "above_4g", "iommu", "acs", "secure_boot")},
        "boot_mode": {"enum": ["uefi", "legacy"]},
        "power_profile": {"enum": ["performance", "efficiency"]},
        "attributes": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.]{0,127}$"},
            "additionalProperties": {"type": ["string", "integer", "boolean"], "maxLength": 255},
        },
    },
}

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{name: _profile_value(name) for name in PROFILE_FIELDS},
        "description": {"type": "string", "maxLength": 255},
        "extra": {"type": "object"},
        "firmware": _FIRMWARE,
        "bios": _BIOS,
    },
}

TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "rack", "devices"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "description": {"type": "string"},
        "pod": _NAME_PATTERN,
        "racks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {"name": _NAME_PATTERN},
            },
        },
        "rack": {
            "type": "object",
            "additionalProperties": False,
            "required": ["power_capacity_kw", "cooling", "feeds"],
            "properties": {
                "u_height": {"type": "integer", "minimum": 1, "maximum": 60},
                "power_capacity_kw": _POSITIVE,
                "cooling": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind", "limit_kw"],
                    "properties": {"kind": {"enum": [c.value for c in CoolingKind]}, "limit_kw": _POSITIVE},
                },
                "feeds": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "voltage", "amperage"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1, "maxLength": 16},
                            "voltage": {"type": "integer", "minimum": 1, "maximum": 1000},
                            "amperage": _POSITIVE,
                            "phases": {"enum": [1, 3]},
                            "max_utilisation": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        },
                    },
                },
            },
        },
        "profiles": {"type": "object", "propertyNames": {"maxLength": 64}, "additionalProperties": PROFILE_SCHEMA},
        "devices": {"type": "array", "minItems": 1, "items": _DEVICE},
        "bonds": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["role", "name", "members"],
                "properties": {
                    "role": _ROLES,
                    "name": {"type": "string", "minLength": 1, "maxLength": 64},
                    "members": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "mtu": {"type": "integer", "minimum": 576, "maximum": 9216},
                },
            },
        },
        "addressing": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"management": _POOL, "host": _POOL},
        },
        "breakouts": {"type": "array", "items": _BREAKOUT},
        "cabling": {"type": "array", "items": _CABLE},
        "power": {
            "type": "object",
            "additionalProperties": False,
            "required": ["pdus"],
            "properties": {
                "pdus": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"type": "array", "items": _NAME_PATTERN, "minItems": 1},
                },
                "cable_kind": {"type": "string"},
            },
        },
    },
}
