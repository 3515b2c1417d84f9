"""A small synchronous SNMP client (GET, SET, column walks) over pysnmp 7, which is asyncio-based.

Every request of a process runs on one event loop in one background thread with one SNMP engine:
drivers are called from fan-out threads and get plain blocking methods, and an engine (costly to
build) is built once. pysnmp's errors, error indications and error statuses are translated to
rackctl's exceptions in `_translated` and `_checked`, the only places that know them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch import asyncio as hlapi
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import Integer32, Null, ObjectName, OctetString
from pysnmp.smi import builder, view

from rackctl.errors import AuthError, CommandError, ConnectError, DriverError, Timeout, Unsupported
from rackctl.types import Secret

T = TypeVar("T")
Value = int | str | None  # None: the agent has no such object or instance
MAX_WALK_ROWS = 10_000
BULK_ROWS = 24
COLUMN_BINDS = 48  # var-binds asked per GETBULK of several columns (a few kB of answer)

_AUTH = {
    "MD5": hlapi.usmHMACMD5AuthProtocol,
    "SHA": hlapi.usmHMACSHAAuthProtocol,
    "SHA224": hlapi.usmHMAC128SHA224AuthProtocol,
    "SHA256": hlapi.usmHMAC192SHA256AuthProtocol,
    "SHA384": hlapi.usmHMAC256SHA384AuthProtocol,
    "SHA512": hlapi.usmHMAC384SHA512AuthProtocol,
}
_PRIV = {
    "DES": hlapi.usmDESPrivProtocol,
    "3DES": hlapi.usm3DESEDEPrivProtocol,
    "AES": hlapi.usmAesCfb128Protocol,
    "AES128": hlapi.usmAesCfb128Protocol,
    "AES192": hlapi.usmAesCfb192Protocol,
    "AES256": hlapi.usmAesCfb256Protocol,
}
_AUTH_INDICATIONS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.UnknownSecurityName,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.AuthenticationFailure,
)


@dataclass(frozen=True)
class SnmpTarget:
    """An agent and how to authenticate: v2c with a community, or v3 with a USM user."""

    address: str
    port: int = 161
    version: str = "2c"
    community: Secret | None = None
    user: str = ""
    auth_key: Secret | None = None
    priv_key: Secret | None = None
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"
    context: str = ""
    timeout: float = 1.0  # seconds per attempt
    retries: int = 1


class _NoMibCompiler:
    """Stands in for pysmi's compiler: rackctl only sends numeric OIDs, which need no MIB."""

    def compile(self, *names: str, **_options: Any) -> dict[str, str]:
        return dict.fromkeys(names, "missing")


class _Runtime:
    """The process's SNMP engine and the event loop thread that owns it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="rackctl-snmp").start()
        self.engine: Any = self.run(self._engine(), 30.0)

    async def _engine(self) -> Any:
        engine = hlapi.SnmpEngine()
        # NOTE(pysnmp 7.1): resolving var-binds builds a pysmi MIB compiler (about a second of CPU)
        # unless the MIB builder already has one; numeric OIDs never need it.
        mibs = builder.MibBuilder()
        mibs.set_mib_compiler(_NoMibCompiler(), "")
        engine.cache["mibViewController"] = view.MibViewController(mibs)
        return engine

    def run(self, coroutine: Coroutine[Any, Any, T], seconds: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(seconds)
        except FutureTimeout:
            future.cancel()
            raise Timeout(f"no answer within {seconds:g}s") from None


_RUNTIME: list[_Runtime] = []
_RUNTIME_LOCK = threading.Lock()


def _runtime() -> _Runtime:
    with _RUNTIME_LOCK:
        if not _RUNTIME:
            _RUNTIME.append(_Runtime())
        return _RUNTIME[0]


def _translate_indication(indication: Any, where: str) -> DriverError:
    if isinstance(indication, errind.RequestTimedOut):
        return Timeout(f"{where}: no answer from the agent")
    if isinstance(indication, _AUTH_INDICATIONS):
        return AuthError(f"{where}: the agent refused the SNMPv3 credentials ({indication})")
    return ConnectError(f"{where}: {indication}")


def _checked(answer: tuple[Any, Any, Any, Any], where: str) -> Sequence[Any]:
    indication, status, index, var_binds = answer
    if indication:
        raise _translate_indication(indication, where)
    if status:
        name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
        oid = f" at {var_binds[int(index) - 1][0]}" if index and int(index) <= len(var_binds) else ""
        if name in ("authorizationError", "noAccess", "notWritable", "readOnly", "noCreation"):
            raise CommandError(f"{where}: the agent refused the request ({name}{oid})")
        raise CommandError(f"{where}: the agent answered {name}{oid}")
    return var_binds


@contextmanager
def _translated(where: str) -> Iterator[None]:
    try:
        yield
    except DriverError:
        raise
    except OSError as exc:
        raise ConnectError(f"{where}: {exc.strerror or exc}") from None
    except PySnmpError as exc:
        raise ConnectError(f"{where}: {exc}") from None


def _plain(value: Any) -> Value:
    """pysnmp's value as an int or a str; None for noSuchObject, noSuchInstance and endOfMibView."""
    if value.tagSet in (hlapi.NoSuchObject.tagSet, hlapi.NoSuchInstance.tagSet, hlapi.EndOfMibView.tagSet):
        return None
    if isinstance(value, OctetString):
        return value.asOctets().decode(errors="replace")
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value.prettyPrint())


def _is_below(oid: str, prefix: str) -> bool:
    return oid.startswith(prefix + ".")


def _oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(part) for part in oid.split("."))


class SnmpClient:
    """Blocking GET, SET and walk against one agent."""

    def __init__(self, target: SnmpTarget) -> None:
        self.target = target
        self._runtime = _runtime()
        self._auth = self._credentials(target)

    @staticmethod
    def _credentials(target: SnmpTarget) -> Any:
        if target.version in ("1", "2c", "2"):
            if target.community is None:
                raise AuthError(f"{target.address}: no SNMP community given")
            return hlapi.CommunityData(target.community.value, mpModel=0 if target.version == "1" else 1)
        if target.version != "3":
            raise Unsupported(f"{target.address}: SNMP version '{target.version}' (use 2c or 3)")
        auth = _AUTH.get(target.auth_protocol.upper())
        priv = _PRIV.get(target.priv_protocol.upper())
        if auth is None or priv is None:
            raise Unsupported(f"{target.address}: SNMPv3 protocols {target.auth_protocol}/{target.priv_protocol}")
        if target.auth_key is None:
            raise AuthError(f"{target.address}: no SNMPv3 authentication key given")
        priv_key = (target.priv_key or target.auth_key).value
        return hlapi.UsmUserData(target.user, target.auth_key.value, priv_key, authProtocol=auth, privProtocol=priv)

    @property
    def _deadline(self) -> float:
        # pysnmp keeps its own timer per attempt; this only bounds a wedged event loop.
        return self.target.timeout * (self.target.retries + 1) * 4 + 5

    async def _transport(self) -> Any:
        address = (self.target.address, self.target.port)
        return await hlapi.UdpTransportTarget.create(address, timeout=self.target.timeout, retries=self.target.retries)

    def _context(self) -> Any:
        return hlapi.ContextData(contextName=self.target.context) if self.target.context else hlapi.ContextData()

    def get(self, oids: Sequence[str]) -> dict[str, Value]:
        """Read the objects (one request); a missing object reads None."""
        where = f"SNMP get from {self.target.address}"

        async def request() -> Any:
            binds = [hlapi.ObjectType(hlapi.ObjectIdentity(oid)) for oid in oids]
            engine = self._runtime.engine
            return await hlapi.get_cmd(
                engine, self._auth, await self._transport(), self._context(), *binds, lookupMib=False
            )

        with _translated(where):
            binds = _checked(self._runtime.run(request(), self._deadline), where)
        return {str(oid): _plain(value) for oid, value in binds}

    def set_integer(self, oid: str, value: int) -> None:
        """Write an integer object (one request)."""
        where = f"SNMP set of {oid} on {self.target.address}"

        async def request() -> Any:
            bind = hlapi.ObjectType(hlapi.ObjectIdentity(oid), Integer32(value))
            engine = self._runtime.engine
            return await hlapi.set_cmd(
                engine, self._auth, await self._transport(), self._context(), bind, lookupMib=False
            )

        with _translated(where):
            binds = _checked(self._runtime.run(request(), self._deadline), where)
        if binds and _plain(binds[0][1]) is None:
            raise CommandError(f"{where}: the agent has no such object")

    def walk(self, prefix: str) -> list[tuple[str, Value]]:
        """Every object below `prefix`, in order (GETBULK, or GETNEXT for SNMPv1)."""
        rows: list[tuple[str, Value]] = []
        cursor = prefix
        while len(rows) < MAX_WALK_ROWS:
            batch = self._next_rows(cursor)
            fresh = [(oid, value) for oid, value in batch if _is_below(oid, prefix) and value is not None]
            if fresh and _oid_key(fresh[0][0]) <= _oid_key(cursor):
                raise CommandError(f"SNMP walk of {prefix} on {self.target.address}: OIDs do not increase")
            rows.extend(fresh)
            if len(fresh) < len(batch) or not batch:
                return rows
            cursor = fresh[-1][0]
        return rows

    def _next_rows(self, cursor: str) -> list[tuple[str, Value]]:
        return self._bulk([cursor], BULK_ROWS)

    def _bulk(self, cursors: Sequence[str], repetitions: int) -> list[tuple[str, Value]]:
        """One GETBULK (GETNEXT for SNMPv1) from the cursors; the answer's var-binds in order."""
        where = f"SNMP walk from {self.target.address}"
        bulk = self.target.version != "1"

        async def request() -> Any:
            engine, transport = self._runtime.engine, await self._transport()
            if bulk:
                return await _getbulk(engine, self._auth, transport, self._context(), repetitions, cursors)
            binds = [hlapi.ObjectType(hlapi.ObjectIdentity(cursor)) for cursor in cursors]
            return await hlapi.next_cmd(engine, self._auth, transport, self._context(), *binds, lookupMib=False)

        with _translated(where):
            binds = _checked(self._runtime.run(request(), self._deadline), where)
        return [(str(oid), _plain(value)) for oid, value in binds]

    def walk_columns(self, columns: Sequence[str], max_rows: int | None = None) -> dict[str, list[tuple[str, Value]]]:
        """Every row of several columns of one table in one pass: each GETBULK asks for the next
        rows of every column not yet finished (as snmptable does), so a table costs
        rows x columns / (var-binds per request) requests, not one walk per column. Rows are keyed by
        their index suffix (the OID less the column); `max_rows` stops each column early."""
        found: dict[str, list[tuple[str, Value]]] = {column: [] for column in columns}
        cursors = {column: column for column in dict.fromkeys(columns)}
        while cursors and sum(len(rows) for rows in found.values()) < MAX_WALK_ROWS:
            active = list(cursors)
            repetitions = max(1, min(COLUMN_BINDS // len(active), max_rows or COLUMN_BINDS))
            answer = self._bulk([cursors[c] for c in active], repetitions)
            if self.target.version == "1":
                answer = answer[: len(active)]
            for position, (oid, value) in enumerate(answer):
                column = active[position % len(active)]
                if column not in cursors:
                    continue
                if not _is_below(oid, column) or _oid_key(oid) <= _oid_key(cursors[column]):
                    del cursors[column]  # past the column (or an agent that does not advance)
                    continue
                if value is not None:
                    found[column].append((oid[len(column) + 1 :], value))
                cursors[column] = oid
                if max_rows is not None and len(found[column]) >= max_rows:
                    del cursors[column]
            if not answer:
                break
        return found


async def _getbulk(engine: Any, auth: Any, transport: Any, context: Any, repetitions: int, oids: Sequence[str]) -> Any:
    """One GETBULK, as pysnmp's hlapi `bulk_cmd` sends it but without its MIB look-up of every request
    var-bind: numeric OIDs need none, and the look-up was about a sixth of the client's CPU reading
    100 PDUs (bench/pdu.py). Answers (errorIndication, errorStatus, errorIndex, var-binds) as it does."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def answered(_engine: Any, _handle: Any, indication: Any, status: Any, index: Any, binds: Any, _ctx: Any) -> None:
        if not future.cancelled():
            future.set_result((indication, status, index, binds))

    # NOTE(pysnmp 7.1): hlapi's own target configurator, so its cache serves get/set/next as before.
    target, _params = LCD.configure(engine, auth, transport, context.contextName)
    binds = [(ObjectName(oid), Null("")) for oid in oids]
    cmdgen.BulkCommandGenerator().send_varbinds(
        engine, target, context.contextEngineId, context.contextName, 0, repetitions, binds, answered
    )
    return await future
