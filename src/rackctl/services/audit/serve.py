"""`rackctl audit serve`: the newest audit state over HTTP, for Prometheus to scrape (/metrics)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rackctl.inventory.db import Database
from rackctl.services.audit import store
from rackctl.services.audit.report import prometheus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_text(db: Database) -> str:
    """The exposition text of each device and layer as its newest run left it."""
    with db.transaction() as session:
        newest = store.last_run(session)
        return prometheus(store.latest(session), newest.finished_at if newest else None)


def make_server(db: Database, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering GET /metrics from the inventory (call serve_forever to run it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404, "only /metrics is served here")
                return
            try:
                body = metrics_text(db).encode()
            except Exception as exc:  # a broken database must show as a failed scrape, not a dead server
                self.send_error(500, f"cannot read the audit state: {type(exc).__name__}")
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes every few seconds would flood the terminal; the server stays quiet.
            return

    return ThreadingHTTPServer((host, port), Handler)
