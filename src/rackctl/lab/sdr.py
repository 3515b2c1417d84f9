"""Binary records a simulated BMC serves: SDR full sensor records and a FRU image (IPMI v2.0 layouts).

ipmi_sim takes them as `main_sdr_add` and `mc_add_fru_data` byte lists; the client side (pyghmi,
ipmitool, FreeIPMI) decodes them with its own parsers, so a mistake here shows up in any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

# IPMI sensor types and units used by the lab (IPMI v2.0 tables 42-3 and 43-15).
TEMPERATURE, FAN, POWER_SUPPLY = 0x01, 0x04, 0x08
THRESHOLD, SENSOR_SPECIFIC = 0x01, 0x6F
DEGREES_C, RPM, WATTS = 1, 18, 6
# Power supply sensor-specific offsets (table 42-3): presence, failure, input lost.
PSU_PRESENT, PSU_FAILURE, PSU_INPUT_LOST = 0, 1, 3


@dataclass(frozen=True)
class SensorSpec:
    """One sensor: its number, name, type, and for threshold sensors its unit, scale and limits."""

    number: int
    name: str  # at most 16 characters
    sensor_type: int
    reading_type: int = THRESHOLD
    unit: int = 0
    multiplier: int = 1  # reading = raw * multiplier
    entity: tuple[int, int] = (0x07, 1)  # system board
    upper: tuple[int, int, int] = (0, 0, 0)  # raw non-critical, critical, non-recoverable (0: none)
    file: str = ""  # polled for the raw value (threshold sensors)

    @property
    def is_threshold(self) -> bool:
        return self.reading_type == THRESHOLD


def _id_string(name: str) -> list[int]:
    raw = name.encode("ascii")[:16]
    return [0xC0 | len(raw), *raw]


def full_sensor_record(sensor: SensorSpec, record_id: int, owner: int = 0x20) -> list[int]:
    """An SDR type 0x01 (full sensor record) for `sensor`."""
    entity_id, instance = sensor.entity
    if sensor.is_threshold:
        unc, uc, unr = sensor.upper
        supported = (0x08 if unc else 0) | (0x10 if uc else 0) | (0x20 if unr else 0)
        masks = [0x00, supported << 1 & 0xFF, 0x00, supported << 1 & 0xFF, supported, supported]
        analog = [
            0x00,
            sensor.unit,
            0x00,
            0x00,
            sensor.multiplier & 0xFF,
            (sensor.multiplier >> 8) & 0x03,
            0,
            0,
            0,
            0,
            0x00,
        ]
        ranges = [0, 0, 0, 0xFF, 0x00, unr, uc, unc, 0, 0, 0, 0, 0]
        capabilities = 0x68  # threshold access: readable and settable
    else:
        masks = [0x0F, 0x00, 0x0F, 0x00, 0x0F, 0x00]
        analog = [0xC0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]  # "no analog reading"
        ranges = [0] * 13
        capabilities = 0x40
    body = [
        owner,
        0x00,
        sensor.number,
        entity_id,
        instance,
        0x67,
        capabilities,
        sensor.sensor_type,
        sensor.reading_type,
        *masks,
        *analog,
        *ranges,
        0x00,
        0x00,
        0x00,
        *_id_string(sensor.name),
    ]
    return [record_id & 0xFF, record_id >> 8, 0x51, 0x01, len(body), *body]


def _fru_field(text: str) -> bytes:
    raw = text.encode("ascii", "replace")[:63]
    return bytes([0xC0 | len(raw)]) + raw


def _fru_area(prefix: bytes, fields: list[str]) -> bytes:
    body = bytearray([0x01, 0x00]) + prefix + b"".join(_fru_field(f) for f in fields) + b"\xc1"
    while (len(body) + 1) % 8:
        body.append(0)
    body[1] = (len(body) + 1) // 8
    body.append((-sum(body)) & 0xFF)
    return bytes(body)


def fru_image(manufacturer: str, product: str, part: str, version: str, serial: str, asset_tag: str) -> bytes:
    """A FRU with a board info area and a product info area (IPMI FRU spec v1.0)."""
    board = _fru_area(bytes([0x00, 0, 0, 0]), [manufacturer, product, serial, part, ""])
    product_area = _fru_area(bytes([0x00]), [manufacturer, product, part, version, serial, asset_tag, ""])
    header = bytearray([0x01, 0, 0, 1, 1 + len(board) // 8, 0, 0])
    header.append((-sum(header)) & 0xFF)
    return bytes(header) + board + product_area


def hex_bytes(data: list[int] | bytes) -> str:
    return " ".join(f"0x{b:02x}" for b in data)
