"""Read a technician's spreadsheet (CSV) of serials, asset tags, MACs and BMC addresses into devices.

Header: `name` plus any of `serial`, `asset_tag`, `bmc_address` (or `mgmt_address`), `bmc_port`,
`bmc_username`, and `mac:<interface>` (or `<interface>_mac`) per interface. Every row is checked
before anything is written; every bad row is reported by its row number. The file applies as a whole:
values are checked against the inventory as it will be after the file, so two devices may swap serials.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from rackctl.errors import Location, ValidationError

_MAC = re.compile(r"^([0-9a-f]{2})([:-]?)([0-9a-f]{2})(\2[0-9a-f]{2}){4}$", re.IGNORECASE)
_ALIASES = {
    "mgmt_address": "bmc_address",
    "bmc_ip": "bmc_address",
    "asset": "asset_tag",
    "serial_number": "serial",
}
_SCALARS = {"name", "serial", "asset_tag", "bmc_address", "bmc_port", "bmc_username"}
COLUMNS = "name, serial, asset_tag, bmc_address, bmc_port, bmc_username, mac:<interface>"


class CsvErrors(ValidationError):
    """Several bad rows; each is a ValidationError naming its row."""

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more bad row(s))" if len(errors) > 1 else ""
        super().__init__(errors[0].reason + more, errors[0].where)


def normalise_mac(text: str) -> str | None:
    """A MAC as lower-case, colon-separated; None if it is not a MAC."""
    cleaned = text.strip()
    if len(cleaned) == 12 and all(c in "0123456789abcdefABCDEF" for c in cleaned):
        cleaned = ":".join(cleaned[i : i + 2] for i in range(0, 12, 2))
    if not _MAC.match(cleaned):
        return None
    return cleaned.lower().replace("-", ":")


@dataclass
class CsvRow:
    row: int
    name: str
    values: dict[str, str] = field(default_factory=dict)
    macs: dict[str, str] = field(default_factory=dict)


def _column(header: str) -> tuple[str, str | None]:
    text = header.strip()
    lowered = text.lower()
    if lowered.startswith("mac:"):
        return "mac", text[4:].strip()
    if lowered.endswith("_mac") and lowered not in _SCALARS:
        return "mac", text[:-4]
    return _ALIASES.get(lowered, lowered), None


def parse_csv(text: str, source: str, delimiter: str = ",") -> list[CsvRow]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise ValidationError("empty file: a header row with 'name' is needed", Location(source, 1))
    columns = [_column(h) for h in header]
    if ("name", None) not in columns:
        raise ValidationError("no 'name' column", Location(source, 1), hint=_delimiter_hint(header, delimiter))
    unknown = [h for h, (kind, _) in zip(header, columns, strict=True) if kind not in _SCALARS | {"mac"}]
    if unknown:
        raise ValidationError(
            f"unknown column(s): {', '.join(unknown)}",
            Location(source, 1),
            hint=COLUMNS,
        )
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ValidationError(f"{len(cells)} cells, header has {len(header)}", Location(source, row=number))
        row = CsvRow(number, "")
        for (kind, iface), cell in zip(columns, cells, strict=True):
            if not cell.strip():
                continue
            if kind == "mac":
                row.macs[iface or ""] = cell.strip()
            elif kind == "name":
                row.name = cell.strip()
            else:
                row.values[kind] = cell.strip()
        rows.append(row)
    return rows


def _delimiter_hint(header: list[str], delimiter: str) -> str:
    for other in (";", "\t", ",", "|"):
        if other != delimiter and len(header) == 1 and other in header[0]:
            shown = "a tab" if other == "\t" else f"'{other}'"
            return f"the header is separated by {shown}, not '{delimiter}': pass --delimiter \"{other}\""
    return "the header row must name the columns: " + COLUMNS


def read_text(path: Path) -> str:
    """The file as text; bytes that are not UTF-8 are refused naming their row and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read: {exc.strerror or exc}", Location(str(path))) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ValidationError(
            f"cannot read: byte 0x{data[exc.start]:02x} at column {column} is not UTF-8",
            Location(str(path), row=row),
            hint="save the sheet as 'CSV UTF-8' (Excel, LibreOffice: Text CSV, character set Unicode UTF-8)",
        ) from None
