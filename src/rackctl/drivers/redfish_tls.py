"""Who a Redfish BMC is, before any credential goes to it: scheme, certificate checks, pinning.

Per endpoint (ManagementEndpoint columns and options):

- `scheme`: https unless the options say `scheme: http` explicitly (credentials then travel in clear text,
  as the inventory asked); a port number never implies plain HTTP.
- `verify_tls` (default true): the certificate chain and name are checked against `options.cafile`, else the
  system's CA bundle (OpenSSL's default paths, else certifi's), never a distribution-specific path.
- `options.tls_fingerprint`: the SHA-256 fingerprint of the BMC's own certificate (`openssl x509 -noout
  -fingerprint -sha256`); when set, exactly that certificate is accepted, CA or not (self-signed BMC
  certificates), and any other is refused.
- An HTTPS session never follows a redirect to plain HTTP (the session token would follow it).
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from rackctl.drivers.tlsnotation import SCHEMES, fingerprint_hex
from rackctl.errors import AuthError, ConfigError, ConnectError
from rackctl.types import Endpoint


def scheme(endpoint: Endpoint) -> str:
    chosen = str(endpoint.options.get("scheme") or "https").lower()
    if chosen not in SCHEMES:
        raise ConfigError(f"{endpoint.name}: management option scheme '{chosen}' is neither https nor http")
    return chosen


def base_url(endpoint: Endpoint) -> str:
    chosen = scheme(endpoint)
    default = 443 if chosen == "https" else 80
    port = f":{endpoint.port}" if endpoint.port and endpoint.port != default else ""
    return f"{chosen}://{endpoint.address}{port}"


def pinned_fingerprint(endpoint: Endpoint) -> str | None:
    """The pinned certificate's SHA-256 as 64 hex digits (any case, colons, a SHA256: prefix accepted)."""
    raw = endpoint.options.get("tls_fingerprint")
    if not raw:
        return None
    text = fingerprint_hex(str(raw))
    if text is None:
        raise ConfigError(
            f"{endpoint.name}: management option tls_fingerprint is not a SHA-256 fingerprint",
            hint="openssl s_client -connect BMC:443 </dev/null | openssl x509 -noout -fingerprint -sha256",
        )
    return text


def system_ca_bundle() -> str:
    """The platform's CA bundle as OpenSSL finds it; certifi's where the platform has none."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    import certifi

    return str(certifi.where())


def verify(endpoint: Endpoint) -> str | bool:
    """What requests checks the chain against: a CA file, or False where a pin (or the inventory) says so."""
    if pinned_fingerprint(endpoint) is not None or not endpoint.verify_tls:
        return False  # a pin checks the certificate itself (below); verify_tls false is the inventory's choice
    return str(endpoint.options.get("cafile") or system_ca_bundle())


class _PinnedAdapter(HTTPAdapter):
    """HTTPS connections that accept exactly the certificate with the pinned fingerprint (urllib3 checks it)."""

    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(*args, **kwargs)


class _NoPlainHttp(HTTPAdapter):
    """Refuses every plain-HTTP request: an HTTPS BMC redirecting there would take the session token along."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise requests.exceptions.InvalidURL(f"refusing to follow {request.url}: plain HTTP from an HTTPS BMC")


def https_adapter(endpoint: Endpoint) -> HTTPAdapter | None:
    pinned = pinned_fingerprint(endpoint)
    return _PinnedAdapter(pinned) if pinned else None


def session(endpoint: Endpoint) -> requests.Session:
    """A requests session that checks the endpoint the way a Redfish session does."""
    http = requests.Session()
    adapter = https_adapter(endpoint)
    if adapter is not None:
        http.mount("https://", adapter)
    if scheme(endpoint) == "https":
        http.mount("http://", _NoPlainHttp())
    return http


def refuse_plain_http(client: Any, endpoint: Endpoint) -> None:
    """Make the library's session refuse plain HTTP when the endpoint speaks HTTPS."""
    if scheme(endpoint) == "https":
        # NOTE(python-redfish-library 3.x): it mounts a caller's adapter for https:// only; its requests
        # session is the `_session` attribute.
        client._session.mount("http://", _NoPlainHttp())


def raise_if_untrusted(where: str, exc: BaseException) -> None:
    """An unreachable BMC whose real cause is TLS: an untrusted certificate (not retried) or no TLS at all."""
    cause: BaseException | None = exc
    while cause is not None:
        text = str(cause)
        if "Fingerprints did not match" in text:
            message = f"{where}: its certificate does not match the pinned fingerprint; nothing was sent to it"
            raise AuthError(message) from None
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            raise AuthError(
                f"{where}: its TLS certificate is not trusted; nothing was sent to it",
                hint="give the endpoint options cafile=CA.pem or tls_fingerprint=SHA256 of its certificate",
            ) from None
        if isinstance(cause, ssl.SSLError):
            raise ConnectError(
                f"{where}: no TLS handshake ({cause.reason or cause}); nothing was sent to it",
                hint="a BMC that speaks plain HTTP needs management options scheme=http (credentials then go "
                "in clear text)",
            ) from None
        cause = cause.__cause__ or cause.__context__
