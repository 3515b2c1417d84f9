"""Firmware and media images: checked against their sha256 before anything is sent, then served to the BMCs
from a short-lived HTTP server on the address the BMCs reach this machine by (loopback in tests).

An image is opened once; its hash is computed from that open file and the server sends from the same
open file, so what a BMC receives is what was checked. A URL image is downloaded and checked first and
then served like a local file: the BMC never fetches anything rackctl has not verified. The server
answers only the random paths of the images it was given, and stops when the work is done.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit

import requests

from rackctl.errors import ConfigError

CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass
class Image:
    """A checked image held open: `read_range` serves exactly the bytes that were hashed."""

    name: str
    sha256: str
    size: int
    handle: BinaryIO = field(repr=False)
    source: str = ""

    def read_range(self, offset: int, length: int) -> bytes:
        return os.pread(self.handle.fileno(), length, offset)

    def close(self) -> None:
        self.handle.close()


def _hash(handle: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def checked(source: str, sha256: str, cache: Path, required: bool = True) -> Image:
    """Open a local image (or download a URL one into `cache`) and refuse it unless its sha256 matches.

    With `required` false an image without a sha256 is accepted and its hash only recorded (virtual media
    ISOs have no baseline to check against).
    """
    if not sha256 and required:
        raise ConfigError(f"{source}: no sha256 given; rackctl sends no image it cannot check")
    downloaded = urlsplit(source).scheme in ("http", "https")
    path = _download(url(source), cache) if downloaded else Path(source)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"image {_shown(source)}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()  # a FIFO or a device would never end hashing
        raise ConfigError(f"image {_shown(source)}: not a regular file")
    if downloaded:
        path.unlink()  # the open handle keeps the bytes; nothing is left behind in the cache
    found, size = _hash(handle)
    if sha256 and found != sha256.lower():
        handle.close()
        raise ConfigError(
            f"image {source}: sha256 is {found}, the profile says {sha256.lower()}; it was not sent",
            hint="fix the image or the profile's sha256",
        )
    return Image(Path(urlsplit(source).path).name or "image.bin", found, size, handle, source)


def _shown(source: str) -> str:
    """An image's name as an error shows it: one line, bounded."""
    return repr(source[:200]) if any(not c.isprintable() for c in source) else source[:200]


def url(text: str) -> str:
    """An http(s) URL a BMC can be given: a host, no whitespace or control characters; refused otherwise."""
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or not c.isprintable() for c in text)
    ):
        raise ConfigError(f"image {_shown(text)}: not a usable http(s) URL")
    return text


def _download(url: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT_S) as reply:
            reply.raise_for_status()
            with tempfile.NamedTemporaryFile(dir=cache, delete=False) as out:
                for chunk in reply.iter_content(CHUNK):
                    out.write(chunk)
    except requests.RequestException as exc:
        raise ConfigError(f"image {url}: could not be downloaded ({exc})") from None
    return Path(out.name)


def local_address(remote: str) -> str:
    """The address this machine uses to reach `remote` (the routing decision; no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((remote, 9))
        except OSError as exc:
            raise ConfigError(f"no route to {remote} to serve images from: {exc.strerror or exc}") from None
        return str(probe.getsockname()[0])


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the server keeps its own record of who fetched what."""

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        image = self.server.images.get(urlsplit(self.path).path)
        self.server.fetches.append((self.client_address[0], self.path, image is not None))
        if image is None:
            self.send_error(404)
            return
        first, last = _range(self.headers.get("Range"), image.size)
        self.send_response(206 if self.headers.get("Range") and first <= last else 200)
        if self.headers.get("Range") and first <= last:
            self.send_header("Content-Range", f"bytes {first}-{last}/{image.size}")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(max(0, last - first + 1)))
        self.end_headers()
        offset = first
        while body and offset <= last:
            chunk = image.read_range(offset, min(CHUNK, last - offset + 1))
            if not chunk:
                break
            self.wfile.write(chunk)
            offset += len(chunk)


def _range(header: str | None, size: int) -> tuple[int, int]:
    """The byte range asked for ("bytes=A-B", "bytes=A-", "bytes=-N"), clipped; the whole file otherwise.

    NOTE(BMC virtual media over HTTP): BMCs read an ISO in ranges as the host asks for blocks.
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return 0, size - 1
    start, _, end = header[len("bytes=") :].partition("-")
    try:
        if not start:
            return max(0, size - int(end)), size - 1
        return int(start), min(size - 1, int(end)) if end else size - 1
    except ValueError:
        return 0, size - 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    images: dict[str, Image]
    fetches: list[tuple[str, str, bool]]


class ImageServer:
    """Serve checked images over HTTP on one address until closed."""

    def __init__(self, address: str) -> None:
        try:
            self._http = _Server((address, 0), _Handler)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot serve images on {_shown(address)}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        self._http.images, self._http.fetches = {}, []
        self.address = address
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def add(self, image: Image) -> str:
        """The URL a BMC fetches `image` from (an unguessable path)."""
        path = f"/{secrets.token_urlsafe(16)}/{quote(image.name)}"
        self._http.images[path] = image
        return f"http://{self.address}:{self.port}{path}"

    @property
    def fetches(self) -> list[tuple[str, str, bool]]:
        """(client address, path, whether it was served) of every request so far."""
        return list(self._http.fetches)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def serving(addresses: Iterable[str]) -> Iterator[dict[str, ImageServer]]:
    """One image server per local address the BMCs are reached from; all stopped on exit."""
    servers: dict[str, ImageServer] = {}
    try:
        for address in dict.fromkeys(addresses):
            servers[address] = ImageServer(address)
        yield servers
    finally:
        for server in servers.values():
            server.close()
