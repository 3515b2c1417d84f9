"""The lab's wait for simulated PDUs: a simulator whose process died is given up on at once, and one that
is still starting is asked again (the wait is bounded by its timeout, not by a count of tries)."""

from __future__ import annotations

import socket
from pathlib import Path

from rackctl.lab.processes import last_words
from rackctl.lab.snmp import wait_answering


def _unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_simulator_that_died_is_reported_on_the_first_round() -> None:
    asked: list[str] = []

    def running(address: str) -> bool:
        asked.append(address)
        return False

    # An hour's timeout: only giving up on the dead process ends this wait.
    silent = wait_answering([("127.0.0.1", _unused_udp_port(), "public")], timeout=3600, running=running)
    assert silent == ["127.0.0.1"]
    assert asked == ["127.0.0.1"]


def test_a_silent_simulator_still_running_is_waited_for_until_the_timeout() -> None:
    rounds: list[str] = []

    def running(address: str) -> bool:
        rounds.append(address)
        return True

    silent = wait_answering([("127.0.0.1", _unused_udp_port(), "public")], timeout=1.0, running=running)
    assert silent == ["127.0.0.1"]
    assert len(rounds) > 1


def test_a_failed_start_is_explained_by_the_last_line_of_its_log(tmp_path: Path) -> None:
    log = tmp_path / "snmpsim.log"
    log.write_text("starting\nERROR: [Errno 98] Address already in use\n\n")
    assert last_words(log) == "ERROR: [Errno 98] Address already in use"
    assert last_words(tmp_path / "missing.log") == "no log"
    (tmp_path / "empty.log").write_text("")
    assert last_words(tmp_path / "empty.log") == "nothing logged"
