"""Serial over LAN (IPMI v2.0 SOL) through pyghmi: the node's serial console, byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from pyghmi.ipmi import console as pyghmi_console

from rackctl.drivers.ipmi import translated
from rackctl.types import Endpoint


class IpmiConsole:
    """One SOL session; output arrives through `on_output` on pyghmi's I/O thread."""

    def __init__(self, endpoint: Endpoint, on_output: Callable[[bytes], None]) -> None:
        self.endpoint = endpoint
        self.on_output = on_output
        self._console: Any = None

    def __enter__(self) -> IpmiConsole:
        password = self.endpoint.password.value if self.endpoint.password else ""
        with translated(f"serial console of {self.endpoint.address}"):
            # force: take the SOL payload over from a session someone left open (the BMC allows one).
            self._console = pyghmi_console.Console(
                bmc=self.endpoint.address,
                userid=self.endpoint.username.encode(),
                password=password.encode(),
                iohandler=self._deliver,
                port=self.endpoint.port or 623,
                force=True,
            )
        return self

    def _deliver(self, data: Any) -> None:
        if isinstance(data, dict):  # pyghmi reports errors and state changes as dictionaries
            message = data.get("error") or data.get("info")
            if message:
                self.on_output(f"\r\n[console: {message}]\r\n".encode())
            return
        self.on_output(data if isinstance(data, bytes) else str(data).encode())

    def send(self, data: bytes) -> None:
        with translated("serial console"):
            self._console.send_data(data)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._console is not None:
            with translated("serial console"):
                self._console.close()
            self._console = None
