"""Switched, metered PDUs over SNMP: one driver, the vendor families as data (drivers/pdu_families.py).

The family comes from the endpoint's platform, or is detected (`auto`, the default) from sysObjectID
and a probe of each candidate family's own columns. Everything is read by walking whole columns
(several columns of a table per GETBULK), never a GET per outlet. A daisy chain is read whole; the
endpoint's `unit` option says which unit's outlets this inventory device switches. SNMP errors are
translated in drivers/snmp.py; this module and pdu_tables.py only judge what the PDU answered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from rackctl.drivers import pdu_tables
from rackctl.drivers.base import LEVELS, Meter, OutletStatus, PduIdentity, PduProbe, PduReadings
from rackctl.drivers.pdu_families import AUTO, Family, Switching, families, family_for
from rackctl.drivers.snmp import SnmpClient, SnmpTarget, Value
from rackctl.errors import CommandError, Unsupported
from rackctl.types import Endpoint, PowerAction, PowerState, Secret

SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
FALLBACK_CYCLE_S = 5.0


def target_of(endpoint: Endpoint) -> SnmpTarget:
    """The SNMP agent of a PDU endpoint: v2c uses the password as community, v3 as USM keys."""
    options = endpoint.options
    version = str(options.get("version", "2c"))
    secret = endpoint.password
    priv = options.get("priv_key")
    return SnmpTarget(
        address=endpoint.address,
        port=endpoint.port or 161,
        version=version,
        community=secret if version != "3" else None,
        user=endpoint.username,
        auth_key=secret if version == "3" else None,
        priv_key=priv if isinstance(priv, Secret) else None,
        auth_protocol=str(options.get("auth_protocol", "SHA")),
        priv_protocol=str(options.get("priv_protocol", "AES")),
        context=str(options.get("context", "")),
        timeout=float(options.get("timeout", 1.0)),
        retries=int(options.get("retries", 1)),
    )


def detect(client: SnmpClient) -> tuple[Family, str]:
    """The family whose columns the agent answers: sysObjectID's candidates first, then the rest."""
    sys_oid = str(client.get([SYS_OBJECT_ID]).get(SYS_OBJECT_ID) or "").lstrip(".")
    known = list(families().values())
    matching = [f for f in known if any(sys_oid.startswith(p) for p in f.sys_object_ids)]
    for family in matching + [f for f in known if f not in matching]:
        first = client.walk_columns(list(family.probes), max_rows=1)
        if any(first.values()):
            return family, sys_oid
    raise CommandError(f"{client.target.address}: no known PDU MIB answers (sysObjectID {sys_oid or 'none'})")


class SnmpPdu:
    """A switched, metered PDU: outlet state and switching, readings, identity, probe."""

    protocol = "snmp"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        platform = str(endpoint.options.get("family", "") or AUTO)
        self._family: Family | None = None if platform.lower() == AUTO else family_for(platform)
        self.unit = int(endpoint.options.get("unit", 1) or 1)
        self.sys_object_id = ""
        self._client: SnmpClient | None = None

    def __enter__(self) -> SnmpPdu:
        self._client = SnmpClient(target_of(self.endpoint))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._client = None  # SNMP keeps no session

    @property
    def client(self) -> SnmpClient:
        if self._client is None:
            raise CommandError("PDU driver used outside its session")
        return self._client

    @property
    def family(self) -> Family:
        """The configured family, or the detected one (detected once per session)."""
        if self._family is None:
            self._family, self.sys_object_id = detect(self.client)
        return self._family

    # --- outlets

    def _switching(self) -> Switching:
        if self.family.outlets is None:
            raise Unsupported(f"{self.endpoint.address}: {self.family.mib} has no switched outlets")
        return self.family.outlets

    def _outlet_rows(self) -> tuple[list[pdu_tables.Row], dict[str, Value]]:
        switching = self._switching()
        table = switching.table
        walked = self.client.walk_columns([c.oid for c in [switching.state, *table.columns()]])
        found = [r for r in pdu_tables.rows(self.family, switching.rows_table(), walked) if r.unit == self.unit]
        return found, pdu_tables.by_row(switching.state, walked)

    def outlets(self, numbers: Sequence[int] | None = None) -> list[OutletStatus]:
        rows, states = self._outlet_rows()
        if not rows:
            raise CommandError(f"{self.endpoint.address}: the PDU reports no outlets ({self.family.mib})")
        by_number = {r.number: r for r in rows}
        wanted = list(numbers) if numbers else sorted(by_number)
        return [self._status(n, by_number.get(n), states) for n in wanted]

    def _status(self, number: int, row: pdu_tables.Row | None, states: dict[str, Value]) -> OutletStatus:
        if row is None:
            return OutletStatus(number, PowerState.UNKNOWN, "", "the PDU has no such outlet")
        switching = self._switching()
        raw = states.get(row.index)
        if isinstance(raw, int) and raw in switching.on_values:
            return OutletStatus(number, PowerState.ON, row.name)
        if isinstance(raw, int) and raw in switching.off_values:
            return OutletStatus(number, PowerState.OFF, row.name)
        problem = f"unexpected outlet state {raw!r} ({self.family.mib})"
        return OutletStatus(number, PowerState.UNKNOWN, row.name, problem)

    def set_outlet(self, number: int, action: PowerAction) -> None:
        switching = self._switching()
        rows, _ = self._outlet_rows()
        row = next((r for r in rows if r.number == number), None)
        if row is None:
            raise CommandError(f"{self.endpoint.address}: the PDU has no outlet {number}")
        command = switching.commands.get(action)
        if command is not None:
            self.client.set_integer(f"{command[0]}.{row.index}", command[1])
            return
        if action != PowerAction.CYCLE:
            raise Unsupported(f"a {self.family.name} PDU outlet cannot '{action.value}'")
        # NOTE(PDU families without a cycle command): off, the usual reboot delay, on.
        off, on = switching.commands[PowerAction.OFF], switching.commands[PowerAction.ON]
        self.client.set_integer(f"{off[0]}.{row.index}", off[1])
        time.sleep(FALLBACK_CYCLE_S)
        self.client.set_integer(f"{on[0]}.{row.index}", on[1])

    # --- identity and readings

    def identity(self) -> PduIdentity:
        fields = self.family.identity
        columns = [oid for oids in fields.values() for oid in oids]
        walked = self.client.walk_columns(columns, max_rows=max(1, self.unit))
        text = {key: _first_text(walked, oids, self.unit) for key, oids in fields.items()}
        return PduIdentity(
            manufacturer=text.get("manufacturer") or self.family.vendor,
            model=text.get("model", ""),
            serial=text.get("serial", ""),
            firmware=text.get("firmware", ""),
        )

    def readings(self) -> PduReadings:
        family = self.family
        columns = [c.oid for table in family.levels.values() for c in table.columns()]
        switching = family.outlets
        if switching is not None:
            columns.append(switching.state.oid)
        walked = self.client.walk_columns(list(dict.fromkeys(columns)))
        meters: list[Meter] = []
        for level in LEVELS:
            if level in family.levels:
                meters += pdu_tables.meters(family, level, walked)
        switched = bool(switching and walked.get(switching.state.oid))
        return PduReadings(tuple(meters), switched, family.name)

    def probe(self) -> PduProbe:
        family = self.family
        ident = self.identity()
        readings = self.readings()
        units = {m.unit for m in readings.meters} or {1}
        outlets = len(self.outlets()) if readings.switched else len(readings.outlets)
        return PduProbe(
            family=family.name,
            mib=family.mib,
            vendor=family.vendor,
            identity=ident,
            units=len(units),
            outlets=outlets,
            phases=len(readings.phases),
            banks=len(readings.banks),
            switched=readings.switched,
            metered=readings.metered,
            sys_object_id=self.sys_object_id,
            breakers={m.name: m.rating_a for m in readings.banks if m.rating_a and m.unit == self.unit},
        )


def _first_text(walked: dict[str, list[tuple[str, Value]]], oids: Sequence[str], unit: int) -> str:
    """The first column that answers: its row for the unit (or its only row)."""
    for oid in oids:
        rows = walked.get(oid) or []
        for suffix, value in rows:
            if suffix.split(".")[0] in (str(unit), "0") and isinstance(value, str) and value:
                return value.strip()
        if rows and isinstance(rows[0][1], str) and rows[0][1]:
            return rows[0][1].strip()
    return ""
