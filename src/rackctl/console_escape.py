"""The escape sequences of `rackctl console`, like ssh and ipmitool: at the start of a line, `~.` ends the
session, `~?` shows help, `~~` sends one `~`. A pure function of the keystrokes, so it is tested alone."""

from __future__ import annotations

from dataclasses import dataclass

NEWLINES = (b"\r", b"\n")
HELP = (
    "\r\nSupported escape sequences:\r\n  ~.  end the console session\r\n  ~?  this help\r\n"
    "  ~~  send the escape character itself\r\n"
)


@dataclass
class EscapeFilter:
    """Feed it keystrokes; it returns what to send to the console and whether to end or show help."""

    escape: bytes = b"~"
    _line_start: bool = True
    _pending: bool = False

    def feed(self, data: bytes) -> tuple[bytes, str | None]:
        """(bytes for the console, "quit" | "help" | None)."""
        out = bytearray()
        for value in data:
            byte = bytes([value])
            if self._pending:
                self._pending = False
                if byte == b".":
                    return bytes(out), "quit"
                if byte == b"?":
                    return bytes(out), "help"
                out += byte if byte == self.escape else self.escape + byte
            elif byte == self.escape and self._line_start:
                self._pending = True
                continue
            else:
                out += byte
            self._line_start = byte in NEWLINES
        return bytes(out), None
