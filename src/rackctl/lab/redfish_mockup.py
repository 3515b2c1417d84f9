"""Serve recorded Redfish resources over real HTTP(S): a read-only BMC for tests and rehearsals.

DMTF's Redfish-Mockup-Server is not on PyPI, so this speaks the same wire protocol for what rackctl
uses: GET answers `<folder>/<path>/index.json` (or `index.html`, served as HTML, for a BMC whose page
is not JSON); POST to the session collection creates a session (X-Auth-Token, Location, @odata.id);
DELETE of the session ends it; Basic auth works everywhere; no or wrong credentials get 401; absent
resources get 404 with a Redfish error body. `redfish_writes` carries out the writes BMC-side
configuration needs (updates and tasks, passwords, BIOS, media, resets); others get 204, recorded, not
applied. A ComputerSystem.Reset whose ResetType is not in AllowableValues gets 400, as iDRAC answers it.
`outage(seconds)` takes the BMC away a while (or for good), as its own reset does. Every request is
recorded, so tests can count sessions, retries and bodies.

A variant folder holds `mockup.json` and only the resources that differ from its base:

    {"base": "../public-rackmount1", "absent": ["/redfish/v1/Chassis/1U/Power"],
     "session_reply": {"location": false, "odata_id": true},
     "pages": {"/redfish/v1/Systems/1/LogServices/SEL/Entries?$skip=50": "pages/sel-2.json"}}

A query string is ignored (the resource is served as if there were none) unless `pages` names it:
    python -m rackctl.lab.redfish_mockup FOLDER [--address 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rackctl.lab.redfish_http import Handler, HttpServer, Request
from rackctl.lab.redfish_writes import Writes

ROOT = "/redfish/v1"
DEFAULT_SESSIONS = f"{ROOT}/SessionService/Sessions"


def normalise(path: str) -> str:
    """A resource path as the mockup files it: no query, no trailing slash, no doubled slashes."""
    path = urlsplit(path).path
    while "//" in path:
        path = path.replace("//", "/")
    return path.rstrip("/") or "/"


@dataclass
class Mockup:
    """A folder of resources, layered over its base folder, with the variant's behaviour."""

    folder: Path
    config: dict[str, Any] = field(default_factory=dict)
    base: Mockup | None = None

    @classmethod
    def load(cls, folder: Path) -> Mockup:
        config_file = folder / "mockup.json"
        config = json.loads(config_file.read_text()) if config_file.exists() else {}
        base = cls.load((folder / config["base"]).resolve()) if config.get("base") else None
        return cls(folder, config, base)

    def absent(self, path: str) -> bool:
        return path in {normalise(p) for p in self.config.get("absent", [])}

    def find(self, path: str) -> Path | None:
        """The file serving `path`: this folder's, else the base's; None if absent or unknown."""
        path = normalise(path)
        if self.absent(path) or not (path == ROOT or path.startswith(ROOT + "/")):
            return None
        relative = path[len(ROOT) :].lstrip("/")
        for name in ("index.json", "index.html"):
            candidate = self.folder / relative / name
            if candidate.is_file():
                return candidate
        return self.base.find(path) if self.base else None

    def page(self, path: str, query: str) -> Path | None:
        """The file serving one page of a paged collection (`pages` maps "path?query" to a file)."""
        wanted = f"{normalise(path)}?{query}"
        for key, name in (self.config.get("pages") or {}).items():
            if normalise(key.partition("?")[0]) + "?" + key.partition("?")[2] == wanted:
                return self.folder / name
        return self.base.page(path, query) if self.base else None

    def resource(self, path: str) -> dict[str, Any] | None:
        found = self.find(path)
        if found is None or found.suffix != ".json":
            return None
        try:
            loaded = json.loads(found.read_text())
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None

    def setting(self, section: str, key: str, default: Any) -> Any:
        return (self.config.get(section) or {}).get(key, default)

    def sessions_path(self) -> str:
        root = self.resource(ROOT) or {}
        return normalise(((root.get("Links") or {}).get("Sessions") or {}).get("@odata.id") or DEFAULT_SESSIONS)


def redfish_error(message: str, message_id: str = "Base.1.0.GeneralError") -> bytes:
    info = [{"@odata.type": "#Message.v1_1_1.Message", "MessageId": message_id, "Message": message}]
    return json.dumps({"error": {"code": message_id, "message": message, "@Message.ExtendedInfo": info}}).encode()


def reset_refusal(mockup: Mockup, path: str, body: Any) -> str | None:
    """Why a ComputerSystem.Reset would be refused (None: accepted), judged from the system's resource."""
    if not path.endswith("/Actions/ComputerSystem.Reset"):
        return None
    system = mockup.resource(path.rsplit("/Actions/", 1)[0]) or {}
    action = (system.get("Actions") or {}).get("#ComputerSystem.Reset") or {}
    allowed = action.get("ResetType@Redfish.AllowableValues")
    reset_type = body.get("ResetType") if isinstance(body, dict) else None
    if allowed and reset_type not in allowed:
        return f"The value {reset_type} for the property ResetType is not in the list of acceptable values."
    return None


Answer = tuple[int, bytes, dict[str, str]]


class MockupServer:
    """One simulated BMC on one loopback address; a context manager that starts and stops it."""

    def __init__(
        self,
        folder: Path | str,
        address: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "secret",
        certificate: tuple[str, str] | None = None,
    ) -> None:
        self.mockup = Mockup.load(Path(folder))
        self.certificate = certificate  # (certificate file, key file): serve HTTPS
        self.address, self.port = address, port
        self.username, self.password = username, password
        self.requests: list[Request] = []
        self.sessions: dict[str, str] = {}  # token -> session path
        self.failures: dict[str, int] = {}  # path -> HTTP status to answer instead
        self.sessions_created = 0
        self._lock = threading.Lock()
        self._http: HttpServer | None = None
        self.writes = Writes(self)
        self.away = False
        self._closed = False  # stopped for good: a pending outage must not bring it back
        self._timers: list[threading.Timer] = []
        self._due: list[float | None] = []  # outages to start after the current reply

    @property
    def url(self) -> str:
        return f"{'https' if self.certificate else 'http'}://{self.address}:{self.port}"

    def start(self) -> MockupServer:
        self._closed = False
        self._http = HttpServer((self.address, self.port), Handler)
        self._http.service = self
        if self.certificate is not None:
            self._http.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._http.tls.load_cert_chain(*self.certificate)
        self._http.connections = set()
        self.port = self._http.server_address[1]
        threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() then returns within 50 ms
            daemon=True,
            name=f"redfish-mockup-{self.port}",
        ).start()
        return self

    def stop(self) -> None:  # for good: pending outages are cancelled
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._halt()

    def _halt(self) -> None:
        # An outage's thread and stop() may halt at once: each takes the server from the other, once.
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.shutdown()
            http.server_close()
            for connection in list(http.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)  # keep-alive clients lose the BMC too

    def outage(self, seconds: float | None) -> None:
        """Go away once the current reply is out, as a resetting BMC does: back after `seconds` (None: never)."""
        if seconds != 0:
            self._due.append(seconds)

    def after_reply(self) -> None:
        if self._due:
            # Away from this moment on, not from when the halting thread gets to run on a loaded machine.
            self.away = not self._closed
            threading.Thread(target=self._away, args=(self._due.pop(),), daemon=True).start()

    def _away(self, seconds: float | None) -> None:
        if not self._closed:
            self.away = True
            self._halt()
            if seconds is not None:
                self._later(seconds, self._back)

    def _later(self, seconds: float, action: Any) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _back(self) -> None:
        if not self._closed:
            self.away = False
            self.start()

    def __enter__(self) -> MockupServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, path: str, status: int) -> None:
        """Answer `status` for every request to `path` from now on (a BMC's internal error, say)."""
        self.failures[normalise(path)] = status

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def made(self, method: str, path: str | None = None) -> list[Request]:
        """The recorded requests with this method (and path, compared as the mockup files it)."""
        return [
            r for r in self.requests if r.method == method and (path is None or normalise(r.path) == normalise(path))
        ]

    def authenticate(self, headers: Any) -> str | None:
        """'token' or 'basic' when the request carries valid credentials, else None."""
        if headers.get("X-Auth-Token") in self.sessions:
            return "token"
        scheme, _, encoded = str(headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(encoded).decode(errors="replace").partition(":")
            if (user, password) == (self.username, self.password):
                return "basic"
        return None

    def answer(self, method: str, target: str, auth: str | None, body: Any, content_type: str = "") -> Answer:
        path, query = normalise(target), urlsplit(target).query
        if path in self.failures:
            return self.failures[path], redfish_error(f"injected failure for {path}"), {}
        if method == "POST" and path == self.mockup.sessions_path():
            return self._login(body)
        if auth is None and path not in (ROOT, "/redfish"):
            return 401, redfish_error("No valid credentials", "Base.1.0.NoValidSession"), {}
        if method == "GET":
            return self._get(path, query)
        return self._write(method, path, body, content_type) if method in ("POST", "PATCH") else self._delete(path)

    def _get(self, path: str, query: str) -> Answer:
        if path == "/redfish":
            return 200, b'{"v1": "/redfish/v1/"}', {}
        written = self.writes.resource(path) if not query else None
        if written is not None and (path in self.writes.overlay or path in self.writes.tasks):
            return 200, json.dumps(written).encode(), {}
        found = (self.mockup.page(path, query) if query else None) or self.mockup.find(path)
        if found is None:
            return 404, redfish_error(f"The resource at {path} was not found", "Base.1.0.ResourceMissingAtURI"), {}
        kind = "text/html; charset=utf-8" if found.suffix == ".html" else "application/json; charset=utf-8"
        return 200, found.read_bytes(), {"Content-Type": kind}

    def _write(self, method: str, path: str, body: Any, content_type: str) -> Answer:
        refusal = reset_refusal(self.mockup, path, body)
        if refusal:
            return 400, redfish_error(refusal, "Base.1.0.PropertyValueNotInList"), {}
        done = self.writes.answer(method, path, body, content_type)
        if done is not None:
            return done
        target = path.rsplit("/Actions/", 1)[0] if "/Actions/" in path else path
        if self.mockup.find(target) is None:
            return 404, redfish_error(f"The resource at {target} was not found", "Base.1.0.ResourceMissingAtURI"), {}
        return 204, b"", {}

    def _login(self, body: Any) -> Answer:
        credentials = body if isinstance(body, dict) else {}
        if (credentials.get("UserName"), credentials.get("Password")) != (self.username, self.password):
            return 401, redfish_error("Invalid username or password", "Base.1.0.NoValidSession"), {}
        token, session_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        location = f"{self.mockup.sessions_path()}/{session_id}"
        with self._lock:
            self.sessions[token] = location
            self.sessions_created += 1
        reply: dict[str, Any] = {"Id": session_id, "Name": "User Session", "UserName": self.username}
        if self.mockup.setting("session_reply", "odata_id", True):
            reply["@odata.id"] = location
        headers = {"X-Auth-Token": token}
        if self.mockup.setting("session_reply", "location", True):
            headers["Location"] = location
        return 201, json.dumps(reply).encode(), headers

    def _delete(self, path: str) -> Answer:
        with self._lock:
            tokens = [t for t, p in self.sessions.items() if p == path]
            for token in tokens:
                del self.sessions[token]
        if not tokens:
            return 404, redfish_error(f"No session at {path}", "Base.1.0.ResourceMissingAtURI"), {}
        return 204, b"", {}


def main(argv: list[str] | None = None) -> None:
    """Serve one mockup folder until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m rackctl.lab.redfish_mockup", description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="secret")
    args = parser.parse_args(argv)
    server = MockupServer(args.folder, args.address, args.port, args.username, args.password).start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
