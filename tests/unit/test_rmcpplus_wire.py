"""RMCP+ messages as bytes: framing against FreeIPMI's recorded requests, and refusal of altered answers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from rackctl.drivers.rmcpplus import wire

DATA = Path(__file__).parent.parent / "data" / "ipmi"


def test_request_framing_matches_what_freeipmi_sent_to_real_bmcs() -> None:
    recorded = json.loads((DATA / "freeipmi-get-channel-auth-caps.json").read_text())
    for request in recorded["requests"]:
        message = wire.ipmi_request(recorded["netfn"], recorded["command"], request["rq_seq"], bytes(recorded["data"]))
        assert (message[2], message[-1]) == (recorded["checksum1"], request["checksum2"]), request["source"]


KEYS = wire.Keys(bytes(16), bytes(16), bytes(20), b"k1" * 10, b"aes-key-16-bytes")


def _answer(seq: int = 7, sid: int = 0x1234) -> bytes:
    """A sealed packet as a BMC sends it to the console session `sid` (sealing is symmetric)."""
    message = bytes([0x81, 0x04, 0x7B, 0x20, 5 << 2, 0x01, 0x00, 0x01, 0x00, 0x00])
    message = message[:-1] + bytes([wire.checksum(message[3:-1])])
    return wire.seal(KEYS, sid, seq, message)


def test_a_sealed_answer_opens_with_the_same_keys() -> None:
    seq, message = wire.unseal(KEYS, 0x1234, _answer())
    assert seq == 7
    assert wire.ipmi_response(message, 0x00, 0x01, 5).data == bytes([0x01, 0x00])


@pytest.mark.parametrize("position", range(4, len(_answer())))  # from the auth type to the last ICV byte
def test_any_altered_byte_is_refused(position: int) -> None:
    packet = bytearray(_answer())
    packet[position] ^= 0x01
    with pytest.raises(wire.WireError):
        wire.unseal(KEYS, 0x1234, bytes(packet))


def test_an_answer_for_another_session_or_request_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.unseal(KEYS, 0x9999, _answer())
    _, message = wire.unseal(KEYS, 0x1234, _answer())
    with pytest.raises(wire.WireError):
        wire.ipmi_response(message, 0x00, 0x01, 6)


def test_an_open_session_response_choosing_weaker_algorithms_is_refused() -> None:
    proposals = b"".join(bytes([kind, 0, 0, 8, 1, 0, 0, 0]) for kind in range(3))
    good = struct.pack("<BBBxII", 3, 0, 4, 0x1234, 0x5678) + proposals
    assert wire.open_session_response(good, 3, 0x1234) == 0x5678
    weak = bytearray(good)
    weak[12 + 16 + 4] = 0  # confidentiality: none
    with pytest.raises(wire.Refused):
        wire.open_session_response(bytes(weak), 3, 0x1234)
