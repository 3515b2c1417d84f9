"""The HTTP side of the lab's Redfish mockup: a threading server (optionally TLS) whose handler records each
request and answers it from the MockupServer it serves."""

from __future__ import annotations

import json
import socket
import ssl
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from rackctl.lab.redfish_mockup import MockupServer


@dataclass(frozen=True)
class Request:
    """One request as the mockup saw it."""

    method: str
    path: str
    query: str
    auth: str  # "token", "basic" or "none"
    body: Any = None
    content_type: str = ""  # as sent: a multipart form's boundary is in it
    at: float = field(default_factory=time.monotonic)  # when it arrived: tests compare the order across BMCs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as BMCs and the redfish library's requests.Session use it
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall each
    server: HttpServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the recorded requests are the log
        pass

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "json" not in str(self.headers.get("Content-Type") or "application/json"):
            return raw  # a multipart form or an image: kept as bytes
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode(errors="replace")

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        super().finish()
        self.server.connections.discard(self.connection)

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        sent = {"Content-Type": "application/json; charset=utf-8", "OData-Version": "4.0", **(headers or {})}
        for name, value in sent.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self, method: str) -> None:
        body = self._body() if method in ("POST", "PATCH") else None
        split = urlsplit(self.path)
        service = self.server.service
        if service.away:  # going down: a resetting BMC answers nothing, even before its socket closes
            self.close_connection = True
            return
        auth = service.authenticate(self.headers)
        content_type = str(self.headers.get("Content-Type") or "")
        service.record(Request(method, split.path, split.query, auth or "none", body, content_type))
        self._send(*service.answer(method, self.path, auth, body, content_type))
        service.after_reply()  # an outage this request caused starts once its reply is out (wfile is unbuffered)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    service: MockupServer
    connections: set[socket.socket]
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        if self.tls is not None:  # the handshake happens in the request's thread, not in the accept loop
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            try:
                request.settimeout(5.0)
                request.do_handshake()
            except OSError:  # a client that does not trust this certificate hangs up here: nothing was sent
                return
        super().finish_request(request, client_address)
