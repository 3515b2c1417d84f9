"""Switched, metered PDUs over SNMP: one driver, the vendor families as data (drivers/pdu_families.py).

A family maps each thing rackctl needs (outlet state, outlet commands, names, per-outlet, per-phase
and per-bank current and power, identity) to the OIDs of its MIB. Outlets are found by walking the
state column; everything else is read with GETs of the numbered OIDs. SNMP errors are translated
in drivers/snmp.py; this module only judges what the PDU answered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from rackctl.drivers.base import Meter, OutletStatus, PduIdentity, PduReadings
from rackctl.drivers.pdu_families import PARTS, Column, family_for
from rackctl.drivers.snmp import SnmpClient, SnmpTarget, Value
from rackctl.errors import CommandError, Unsupported
from rackctl.types import Endpoint, PowerAction, PowerState, Secret

GET_BATCH = 24  # var-binds per request: small enough for any agent's PDU size
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


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + GET_BATCH] for i in range(0, len(items), GET_BATCH)]


class SnmpPdu:
    """A switched, metered PDU: outlet state and switching, readings, identity."""

    protocol = "snmp"

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.family = family_for(str(endpoint.options.get("family", "")))
        self._client: SnmpClient | None = None
        self._digits: dict[str, int | None] = {}

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

    def _get(self, oids: Sequence[str]) -> dict[str, Value]:
        values: dict[str, Value] = {}
        for chunk in _chunks(list(oids)):
            values |= self.client.get(chunk)
        return values

    def _numbers(self, column: Column) -> list[int]:
        prefix, pattern = column.pattern()
        found = (pattern.match(oid) for oid, _ in self.client.walk(prefix))
        return sorted({int(m.group(1)) for m in found if m})

    def outlets(self, numbers: Sequence[int] | None = None) -> list[OutletStatus]:
        wanted = list(numbers) if numbers else self._numbers(self.family.state)
        if not wanted:
            raise CommandError(f"{self.endpoint.address}: the PDU reports no outlets ({self.family.mib})")
        names = self.family.outlet_name
        oids = [self.family.state.at(n) for n in wanted] + ([names.at(n) for n in wanted] if names else [])
        values = self._get(oids)
        return [
            self._status(n, values.get(self.family.state.at(n)), values.get(names.at(n)) if names else "")
            for n in wanted
        ]

    def _status(self, number: int, raw: Value, name: Value) -> OutletStatus:
        label = name if isinstance(name, str) else ""
        if raw is None:
            return OutletStatus(number, PowerState.UNKNOWN, label, "the PDU has no such outlet")
        if isinstance(raw, int) and raw in self.family.on_values:
            return OutletStatus(number, PowerState.ON, label)
        if isinstance(raw, int) and raw in self.family.off_values:
            return OutletStatus(number, PowerState.OFF, label)
        return OutletStatus(number, PowerState.UNKNOWN, label, f"unexpected outlet state {raw!r} ({self.family.mib})")

    def set_outlet(self, number: int, action: PowerAction) -> None:
        command = self.family.commands.get(action)
        if command is not None:
            self.client.set_integer(self.family.control.at(number), command)
            return
        if action != PowerAction.CYCLE:
            raise Unsupported(f"a {self.family.name} PDU outlet cannot '{action.value}'")
        # NOTE(PDU families without a cycle command): off, the usual reboot delay, on.
        self.client.set_integer(self.family.control.at(number), self.family.commands[PowerAction.OFF])
        time.sleep(FALLBACK_CYCLE_S)
        self.client.set_integer(self.family.control.at(number), self.family.commands[PowerAction.ON])

    def identity(self) -> PduIdentity:
        values = self._get(list(self.family.identity.values()))
        text = {key: values.get(oid) for key, oid in self.family.identity.items()}
        return PduIdentity(
            manufacturer=str(text.get("manufacturer") or self.family.vendor),
            model=str(text.get("model") or ""),
            serial=str(text.get("serial") or ""),
            firmware=str(text.get("firmware") or ""),
        )

    def readings(self) -> PduReadings:
        outlets = self._numbers(self.family.state)
        meters = {part: self._meters(part, outlets if part == "outlet" else None) for part in PARTS}
        total = self.family.total_power
        return PduReadings(
            outlets=tuple(meters["outlet"]),
            phases=tuple(Meter(f"L{m.name}", m.current_a, m.power_w) for m in meters["phase"]),
            banks=tuple(meters["bank"]),
            total_power_w=self._scaled(total, self._get([total.oid]).get(total.oid), 0) if total else None,
        )

    def _meters(self, part: str, numbers: list[int] | None) -> list[Meter]:
        columns = self.family.meters.get(part, {})
        if not columns:
            return []
        if numbers is None:
            numbers = self._numbers(next(iter(columns.values())))
        values = self._get([c.at(n) for c in columns.values() for n in numbers])
        current, power = columns.get("current"), columns.get("power")
        return [
            Meter(
                str(n),
                current_a=self._scaled(current, values.get(current.at(n)), n) if current else None,
                power_w=self._scaled(power, values.get(power.at(n)), n) if power else None,
            )
            for n in numbers
        ]

    def _scaled(self, column: Column, raw: Value, number: int) -> float | None:
        # Metered PDUs answer -1 (or nothing) where a sensor is not fitted or not read yet.
        if not isinstance(raw, int) or raw < 0:
            return None
        if not column.digits:
            return round(raw * column.scale, 3)
        digits = self._digits_of(column, number)
        return None if digits is None else round(raw / 10**digits, 3)

    def _digits_of(self, column: Column, number: int) -> int | None:
        # NOTE(Raritan PDU2-MIB): readings are integers scaled by the sensor's DecimalDigits, which is
        # the same for every outlet (or pole) of one sensor type; read it once per session. Without
        # a sane value the reading cannot be interpreted at all.
        if column.digits not in self._digits:
            oid = column.digits.replace("{n}", str(number))
            raw = self._get([oid]).get(oid)
            self._digits[column.digits] = raw if isinstance(raw, int) and 0 <= raw <= 6 else None
        return self._digits[column.digits]
