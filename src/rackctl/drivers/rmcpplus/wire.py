"""RMCP+ (IPMI v2.0 over LAN) messages as bytes, and the checks on what comes back: pure functions.

Section and table numbers are those of the IPMI v2.0 specification (rev. 1.1). Only cipher suite 3 is
spoken: RAKP-HMAC-SHA1 authentication, HMAC-SHA1-96 integrity, AES-CBC-128 confidentiality (22.15.2).
A reply that fails any check (tag, session id, status, algorithms, HMAC, padding, checksum) is refused
with WireError; the session drops it and keeps waiting, as pyghmi does, so a forged or stale datagram
cannot end or steer a session.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

RMCP_IPMI = b"\x06\x00\xff\x07"  # RMCP v1.0, no ACK, class IPMI (13.1.3)
AUTH_RMCP_PLUS = 0x06
BMC_ADDRESS, CONSOLE_ADDRESS = 0x20, 0x81
# Payload types (13.27.3)
IPMI_MESSAGE, OPEN_REQUEST, OPEN_RESPONSE, RAKP1, RAKP2, RAKP3, RAKP4 = 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15
ENCRYPTED, AUTHENTICATED = 0x80, 0x40
# Cipher suite 3 (table 22-20): algorithm numbers in the open session payloads (tables 13-17..13-19).
RAKP_HMAC_SHA1, HMAC_SHA1_96, AES_CBC_128 = 0x01, 0x01, 0x01
ICV_LEN = 12  # HMAC-SHA1-96
ADMINISTRATOR, OPERATOR, USER = 4, 3, 2
NAME_ONLY_LOOKUP = 0x10  # RAKP1 role bit 4 (13.20)
# RMCP+ status codes (table 13-15) worth a name in an error.
RMCP_STATUS = {
    0x01: "insufficient resources to create a session",
    0x02: "invalid session ID",
    0x09: "unauthorized role or privilege level requested",
    0x0D: "unauthorized name",
    0x0F: "invalid integrity check value",
    0x11: "no cipher suite match",
    0x12: "illegal or unrecognized parameter",
}


class WireError(Exception):
    """A datagram that is not a valid answer to what was asked (dropped, not fatal)."""


class Refused(Exception):
    """A valid answer that says no: an RMCP+ status or an IPMI completion code other than success."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def checksum(data: bytes) -> int:
    """Two's complement checksum: data plus it sums to zero mod 256 (13.8)."""
    return -sum(data) & 0xFF


def ipmi_request(netfn: int, command: int, seq: int, data: bytes = b"") -> bytes:
    """An IPMI LAN request message (13.8, table 13-4) from the remote console to the BMC."""
    header = bytes([BMC_ADDRESS, netfn << 2])
    body = bytes([CONSOLE_ADDRESS, seq << 2, command]) + data
    return header + bytes([checksum(header)]) + body + bytes([checksum(body)])


@dataclass(frozen=True)
class Response:
    netfn: int
    command: int
    code: int
    data: bytes


def ipmi_response(message: bytes, netfn: int, command: int, seq: int) -> Response:
    """Parse the IPMI response to request (netfn, command, seq); WireError if it answers something else."""
    if len(message) < 8 or checksum(message[:2]) != message[2] or checksum(message[3:-1]) != message[-1]:
        raise WireError("bad IPMI message checksum or length")
    if message[1] >> 2 != netfn + 1 or message[4] >> 2 != seq or message[5] != command:
        raise WireError("an answer to another request")
    return Response(netfn, command, message[6], bytes(message[7:-1]))


def v15_packet(message: bytes) -> bytes:
    """An unauthenticated IPMI v1.5 session packet (13.6): only Get Channel Authentication Capabilities."""
    return RMCP_IPMI + bytes([0]) + bytes(8) + bytes([len(message)]) + message


def v15_message(packet: bytes) -> bytes:
    if len(packet) < 14 or packet[:4] != RMCP_IPMI or packet[4] != 0:
        raise WireError("not an unauthenticated IPMI v1.5 packet")
    return packet[14 : 14 + packet[13]]


def v20_packet(payload_type: int, session_id: int, seq: int, payload: bytes) -> bytes:
    """An RMCP+ packet without integrity trailer (13.6, table 13-8): the session set-up messages."""
    return RMCP_IPMI + struct.pack("<BBIIH", AUTH_RMCP_PLUS, payload_type, session_id, seq, len(payload)) + payload


def v20_payload(packet: bytes, payload_type: int) -> bytes:
    """The payload of an unauthenticated RMCP+ packet of `payload_type`."""
    if len(packet) < 16 or packet[:4] != RMCP_IPMI or packet[4] != AUTH_RMCP_PLUS:
        raise WireError("not an RMCP+ packet")
    if packet[5] & 0x3F != payload_type:
        raise WireError(f"payload type {packet[5] & 0x3F:#x}, expected {payload_type:#x}")
    (length,) = struct.unpack_from("<H", packet, 14)
    return packet[16 : 16 + length]


def open_session_request(tag: int, console_sid: int, privilege: int) -> bytes:
    """Open Session Request (13.17) proposing cipher suite 3 only."""
    proposals = b"".join(bytes([kind, 0, 0, 8, algorithm, 0, 0, 0]) for kind, algorithm in enumerate((1, 1, 1)))
    return struct.pack("<BBHI", tag, privilege, 0, console_sid) + proposals


def open_session_response(payload: bytes, tag: int, console_sid: int) -> int:
    """The BMC's session id from an Open Session Response (13.18), checked against what was proposed."""
    if len(payload) < 2 or payload[0] != tag:
        raise WireError("open session response to another request")
    _status(payload[1], "open session")
    if len(payload) < 36 or struct.unpack_from("<I", payload, 4)[0] != console_sid:
        raise WireError("open session response for another session")
    chosen = tuple(payload[12 + 8 * i + 4] & 0x3F for i in range(3))
    if chosen != (RAKP_HMAC_SHA1, HMAC_SHA1_96, AES_CBC_128):
        raise Refused(f"the BMC chose algorithms {chosen}, not cipher suite 3", 0x11)
    return int(struct.unpack_from("<I", payload, 8)[0])


def _status(code: int, step: str) -> None:
    if code:
        raise Refused(f"{step}: {RMCP_STATUS.get(code, f'RMCP+ status {code:#04x}')}", code)


@dataclass(frozen=True)
class Logon:
    """What both sides contribute to one session's keys (13.31)."""

    user: bytes
    password: bytes
    role: int  # requested maximum privilege, with NAME_ONLY_LOOKUP
    console_sid: int
    bmc_sid: int
    console_random: bytes

    def rakp1(self, tag: int) -> bytes:
        """RAKP Message 1 (13.20)."""
        head = struct.pack("<BxxxI", tag, self.bmc_sid) + self.console_random
        return head + bytes([self.role, 0, 0, len(self.user)]) + self.user

    def _hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.digest(key, data, "sha1")

    def _who(self) -> bytes:
        return bytes([self.role, len(self.user)]) + self.user

    def check_rakp2(self, payload: bytes, tag: int) -> Keys:
        """Verify RAKP Message 2 (13.21): the BMC proves it knows the password; derive the session keys."""
        if len(payload) < 2 or payload[0] != tag:
            raise WireError("RAKP 2 answers another request")
        _status(payload[1], "RAKP 2")
        if len(payload) < 60 or struct.unpack_from("<I", payload, 4)[0] != self.console_sid:
            raise WireError("RAKP 2 for another session")
        bmc_random, guid, code = payload[8:24], payload[24:40], payload[40:60]
        sids = struct.pack("<II", self.console_sid, self.bmc_sid)
        expected = self._hmac(self.password, sids + self.console_random + bmc_random + guid + self._who())
        if not hmac.compare_digest(code, expected):
            raise Refused("RAKP 2: the BMC does not know this user's password (or the password is wrong)", 0x0F)
        sik = self._hmac(self.password, self.console_random + bmc_random + self._who())  # Kg = password (13.31)
        return Keys(bmc_random, guid, sik, self._hmac(sik, b"\x01" * 20), self._hmac(sik, b"\x02" * 20)[:16])

    def rakp3(self, tag: int, keys: Keys) -> bytes:
        """RAKP Message 3 (13.22): the console proves it knows the password."""
        code = self._hmac(self.password, keys.bmc_random + struct.pack("<I", self.console_sid) + self._who())
        return struct.pack("<BBxxI", tag, 0, self.bmc_sid) + code

    def check_rakp4(self, payload: bytes, tag: int, keys: Keys) -> None:
        """Verify RAKP Message 4 (13.23): the integrity check value under the session integrity key."""
        if len(payload) < 2 or payload[0] != tag:
            raise WireError("RAKP 4 answers another request")
        _status(payload[1], "RAKP 4")
        if len(payload) < 8 + ICV_LEN or struct.unpack_from("<I", payload, 4)[0] != self.console_sid:
            raise WireError("RAKP 4 for another session")
        expected = self._hmac(keys.sik, self.console_random + struct.pack("<I", self.bmc_sid) + keys.guid)
        if not hmac.compare_digest(payload[8 : 8 + ICV_LEN], expected[:ICV_LEN]):
            raise Refused("RAKP 4: wrong integrity check value", 0x0F)


@dataclass(frozen=True)
class Keys:
    bmc_random: bytes
    guid: bytes
    sik: bytes
    k1: bytes  # integrity (HMAC-SHA1-96)
    aes: bytes  # confidentiality: the first 16 bytes of K2


def new_random() -> bytes:
    return os.urandom(16)


def seal(keys: Keys, bmc_sid: int, seq: int, message: bytes) -> bytes:
    """An encrypted, authenticated IPMI message packet of an established session (13.28-13.29)."""
    pad = 15 - len(message) % 16  # confidentiality pad 1, 2, 3 ... then its length (table 13-20)
    plain = message + bytes(range(1, pad + 1)) + bytes([pad])
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(keys.aes), modes.CBC(iv)).encryptor()
    payload = iv + encryptor.update(plain) + encryptor.finalize()
    body = struct.pack("<BBIIH", AUTH_RMCP_PLUS, ENCRYPTED | AUTHENTICATED, bmc_sid, seq, len(payload)) + payload
    integrity_pad = -(len(body) + 2) % 4  # AuthType .. Next Header is a multiple of four bytes
    body += b"\xff" * integrity_pad + bytes([integrity_pad, 0x07])
    return RMCP_IPMI + body + hmac.digest(keys.k1, body, "sha1")[:ICV_LEN]


def unseal(keys: Keys, console_sid: int, packet: bytes) -> tuple[int, bytes]:
    """(sequence number, IPMI message) of an authenticated, encrypted packet for this session."""
    if len(packet) < 16 + 32 + 2 + ICV_LEN or packet[:4] != RMCP_IPMI or packet[4] != AUTH_RMCP_PLUS:
        raise WireError("not an RMCP+ session packet")
    body, code = packet[4:-ICV_LEN], packet[-ICV_LEN:]
    if not hmac.compare_digest(code, hmac.digest(keys.k1, body, "sha1")[:ICV_LEN]):
        raise WireError("integrity check failed")
    kind, sid, seq, length = struct.unpack_from("<BIIH", packet, 5)
    if kind != ENCRYPTED | AUTHENTICATED | IPMI_MESSAGE:
        raise WireError("an unencrypted or unauthenticated message in an encrypted session")
    if sid != console_sid:
        raise WireError("a message for another session")
    payload = packet[16 : 16 + length]
    if length < 32 or length % 16 or len(payload) != length:
        raise WireError("bad encrypted payload length")
    decryptor = Cipher(algorithms.AES(keys.aes), modes.CBC(payload[:16])).decryptor()
    plain = decryptor.update(payload[16:]) + decryptor.finalize()
    pad = plain[-1]  # the pad bytes' values are not checked: the HMAC above already vouches for them
    if pad > 15:
        raise WireError("bad confidentiality padding")
    return seq, plain[: -1 - pad]
