"""`rackctl console NODE`: the node's serial console over IPMI SOL; `~.` at the start of a line ends it."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty
from collections.abc import Iterator
from typing import Annotated

import typer

from rackctl.cli import complete, output
from rackctl.cli.common import actor, transaction
from rackctl.console_escape import HELP, EscapeFilter
from rackctl.errors import Unsupported
from rackctl.inventory import queries
from rackctl.services import oplog
from rackctl.services.bmc import endpoint_of, probe_protocol
from rackctl.types import MgmtProtocol


@contextlib.contextmanager
def _raw_terminal() -> Iterator[None]:
    """Keystrokes go to the node as typed (no local echo, no line editing), restored on the way out."""
    if not sys.stdin.isatty():
        yield
        return
    saved = termios.tcgetattr(sys.stdin.fileno())
    try:
        tty.setraw(sys.stdin.fileno())
        yield
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def _write(data: bytes) -> None:
    os.write(sys.stdout.fileno(), data)


def console_cmd(
    node: Annotated[
        str, typer.Argument(autocompletion=complete.devices, help="The node whose serial console to attach to.")
    ],
    escape: Annotated[str, typer.Option(help="Escape character (then . to quit, ? for help).")] = "~",
) -> None:
    """Attach to a node's serial console (IPMI Serial over LAN). End with ~. at the start of a line."""
    from rackctl.drivers.ipmi_console import IpmiConsole

    with transaction() as session:
        endpoint = endpoint_of(queries.device(session, node))
    protocol = MgmtProtocol(endpoint.protocol)
    if protocol == MgmtProtocol.AUTO:
        protocol = probe_protocol(endpoint)
    if protocol != MgmtProtocol.IPMI:
        raise Unsupported(
            f"{node}: serial over LAN needs an IPMI BMC; this one speaks {protocol}",
            hint="use the BMC's own SSH console, or the console server port the inventory names",
        )
    output.note(f"[connecting to {node}'s serial console; {escape}. to end, {escape}? for help]")
    keys = EscapeFilter(escape.encode()[:1])
    with IpmiConsole(endpoint, _write) as sol, _raw_terminal():
        _relay(sol, keys)
    with transaction() as session:
        oplog.record(session, actor(), f"console {node}", [oplog.TargetResult(node, True, "session ended")])
    output.note(f"\r\n[console of {node} closed]")


def _relay(sol: object, keys: EscapeFilter) -> None:
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.5)
        if not ready:
            continue
        data = os.read(sys.stdin.fileno(), 1024)
        if not data:
            return
        to_send, action = keys.feed(data)
        if to_send:
            sol.send(to_send)  # type: ignore[attr-defined]
        if action == "quit":
            return
        if action == "help":
            _write(HELP.encode())
