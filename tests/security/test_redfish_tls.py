"""Redfish peers prove who they are before a credential goes to them: real HTTPS mockup servers on loopback.

Certificates are made per test (a site CA, an impostor's CA, a self-signed BMC certificate); the pinned
fingerprints are what OpenSSL prints for them (`openssl x509 -fingerprint -sha256`), as an operator pastes it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rackctl.drivers.redfish import RedfishBmc
from rackctl.errors import AuthError, ConnectError
from rackctl.inventory.templates.loader import load_template
from rackctl.lab import tls
from rackctl.lab.redfish_mockup import MockupServer
from rackctl.services.bmc import probe_protocol
from rackctl.types import Endpoint, PowerState, Secret

DATA = Path(__file__).resolve().parent.parent / "data" / "redfish" / "public-rackmount1"
PASSWORD = "tls-test-secret"
ADDRESS = "127.43.0.1"  # this suite's own loopback address


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tls")
    site, impostor = tls.make_authority("site BMC CA"), tls.make_authority("impostor CA")
    (folder / "site-ca.pem").write_bytes(site.pem)
    made = {
        "site": tls.issue(site, "bmc", [ADDRESS]),
        "impostor": tls.issue(impostor, "bmc", [ADDRESS]),
        "self-signed": tls.issue(None, "bmc", [ADDRESS]),
        "other-self-signed": tls.issue(None, "bmc", [ADDRESS]),
    }
    files = {name: tls.write_issued(folder / name, "bmc", issued) for name, issued in made.items()}
    return {"folder": folder, "ca": str(folder / "site-ca.pem"), "files": files}


@pytest.fixture
def bmc(certs: dict[str, Any]) -> Iterator[Callable[..., MockupServer]]:
    started: list[MockupServer] = []

    def start(cert: str | None, port: int = 0) -> MockupServer:
        certificate = certs["files"][cert] if cert else None
        server = MockupServer(DATA, ADDRESS, port, password=PASSWORD, certificate=certificate).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def endpoint(server: MockupServer, verify_tls: bool = True, **options: Any) -> Endpoint:
    options.setdefault("http_timeout", 5)
    return Endpoint("node", server.address, server.port, "redfish", "admin", Secret(PASSWORD), verify_tls, options)


def openssl_fingerprint(cert_file: str) -> str:
    done = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert_file],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().split("=", 1)[1]  # "sha256 Fingerprint=AB:CD:..."


def power(target: Endpoint) -> PowerState:
    with RedfishBmc(target) as session:
        return session.power_state()


def credentials_seen(server: MockupServer) -> list[str]:
    return [r.auth for r in server.requests if r.auth != "none"] + [
        r.path for r in server.requests if r.method == "POST" and "Sessions" in r.path
    ]


def test_the_site_ca_vouches_for_its_bmc(bmc: Callable[..., MockupServer], certs: dict[str, Any]) -> None:
    server = bmc("site")
    assert power(endpoint(server, cafile=certs["ca"])) == PowerState.ON


def test_a_certificate_from_another_ca_is_refused_before_any_credential(
    bmc: Callable[..., MockupServer], certs: dict[str, Any]
) -> None:
    server = bmc("impostor")
    with pytest.raises(AuthError, match="its TLS certificate is not trusted; nothing was sent to it"):
        power(endpoint(server, cafile=certs["ca"]))
    assert server.requests == []


def test_verification_uses_the_platforms_ca_bundle(
    bmc: Callable[..., MockupServer], certs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL's default paths name the system bundle; SSL_CERT_FILE is how a platform points them elsewhere.
    server = bmc("site")
    monkeypatch.setenv("SSL_CERT_FILE", certs["ca"])
    assert power(endpoint(server)) == PowerState.ON


def test_a_pinned_self_signed_certificate_is_accepted(bmc: Callable[..., MockupServer], certs: dict[str, Any]) -> None:
    server = bmc("self-signed")
    pin = openssl_fingerprint(certs["files"]["self-signed"][0])
    assert power(endpoint(server, tls_fingerprint=pin)) == PowerState.ON
    assert power(endpoint(server, tls_fingerprint="SHA256:" + pin.replace(":", "").lower())) == PowerState.ON


def test_a_certificate_other_than_the_pinned_one_is_refused(
    bmc: Callable[..., MockupServer], certs: dict[str, Any]
) -> None:
    server = bmc("other-self-signed")
    pin = openssl_fingerprint(certs["files"]["self-signed"][0])
    with pytest.raises(AuthError, match="does not match the pinned fingerprint; nothing was sent to it"):
        power(endpoint(server, tls_fingerprint=pin))
    assert server.requests == []


def test_the_protocol_probe_honours_verification(bmc: Callable[..., MockupServer], certs: dict[str, Any]) -> None:
    server = bmc("impostor")
    target = endpoint(server, cafile=certs["ca"])
    with pytest.raises(AuthError, match="not trusted"):
        RedfishBmc.answers(target)
    with pytest.raises(AuthError, match="not trusted"):  # `auto` does not fall back to IPMI with the password
        probe_protocol(target)
    trusted = bmc("site")
    assert RedfishBmc.answers(endpoint(trusted, cafile=certs["ca"]))


def test_credentials_never_go_over_plain_http_unless_the_endpoint_says_so(bmc: Callable[..., MockupServer]) -> None:
    server = bmc(None, port=8000)  # a plain-HTTP BMC on the port that used to imply HTTP
    with pytest.raises(ConnectError):
        power(endpoint(server))
    assert credentials_seen(server) == []
    assert power(endpoint(server, scheme="http")) == PowerState.ON  # said explicitly: then, and only then
    assert credentials_seen(server) != []


@pytest.mark.parametrize("template", ["h100-4node-air", "h100-pod-2rack-ib", "l40s-8node"])
def test_shipped_templates_verify_tls(template: str) -> None:
    devices = load_template(template).data["devices"]
    managed = [d["management"] for d in devices if "management" in d]
    assert managed and all(m.get("verify_tls", True) for m in managed)
    assert all(m.get("options", {}).get("scheme", "https") == "https" for m in managed)


NODE = "gpu-r12-u03"


@pytest.fixture
def redfish_node(r12: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[[MockupServer], None]:
    """Point NODE's BMC endpoint at a mockup (Redfish, this suite's password) through `device set`."""
    monkeypatch.setenv("RACKCTL_BMC_PASSWORD", PASSWORD)

    def point(server: MockupServer) -> None:
        args = ["--mgmt-address", server.address, "--mgmt-port", str(server.port), "--mgmt-protocol", "redfish"]
        result = r12("device", "set", NODE, *args)
        assert result.exit_code == 0, result.stderr

    return point


def test_device_set_pins_and_unpins_a_bmc_certificate(
    r12: Callable[..., Any], redfish_node: Callable[[MockupServer], None], bmc: Callable[..., MockupServer], certs: Any
) -> None:
    server = bmc("self-signed")
    redfish_node(server)
    assert r12("power", "status", NODE).exit_code == 1  # self-signed, nothing pinned: not trusted
    pin = openssl_fingerprint(certs["files"]["self-signed"][0])
    typed = "SHA256:" + pin.replace(":", "").lower()  # any usual notation; stored as openssl prints it
    assert r12("device", "set", NODE, "--tls-fingerprint", typed).exit_code == 0
    assert r12("device", "show", NODE, "--json").json()["mgmt"]["tls_fingerprint"] == pin
    assert r12("power", "status", NODE).exit_code == 0
    changes = r12("log", "--kind", "management-endpoint", "--json").json()
    assert any((c.get("after") or {}).get("options", {}).get("tls_fingerprint") == pin for c in changes), changes
    cleared = r12("device", "set", NODE, "--clear-tls-fingerprint")
    assert cleared.exit_code == 0, cleared.stderr
    assert r12("device", "show", NODE, "--json").json()["mgmt"]["tls_fingerprint"] is None
    assert r12("power", "status", NODE).exit_code == 1


def test_device_set_says_when_redfish_goes_over_plain_http(
    r12: Callable[..., Any], redfish_node: Callable[[MockupServer], None], bmc: Callable[..., MockupServer]
) -> None:
    server = bmc(None)
    redfish_node(server)
    assert r12("power", "status", NODE).exit_code == 1
    assert credentials_seen(server) == []
    assert r12("device", "set", NODE, "--redfish-scheme", "http").exit_code == 0
    assert r12("device", "show", NODE, "--json").json()["mgmt"]["scheme"] == "http"
    assert r12("power", "status", NODE).exit_code == 0
    assert r12("device", "set", NODE, "--redfish-scheme", "https").exit_code == 0
    assert r12("power", "status", NODE).exit_code == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--tls-fingerprint", "$(id)"),
        ("--tls-fingerprint", "AB:CD\nscheme: http"),
        ("--tls-fingerprint", "0" * 63),
        ("--tls-fingerprint", "\uff10" * 64),  # full-width digits look like hex to a person
        ("--tls-fingerprint", "SHA256:" + "ab" * 200),
        ("--redfish-scheme", "ftp"),
        ("--redfish-scheme", "http`id`"),
        ("--redfish-scheme", ""),
    ],
)
def test_device_set_refuses_what_is_not_a_pin_or_a_scheme(
    r12: Callable[..., Any],
    redfish_node: Callable[[MockupServer], None],
    bmc: Callable[..., MockupServer],
    option: str,
    value: str,
) -> None:
    redfish_node(bmc("self-signed"))
    before = r12("device", "show", NODE, "--json").json()["mgmt"]
    result = r12("device", "set", NODE, option, value)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert f"field '{option}'" in result.stderr and "Traceback" not in result.stderr
    assert r12("device", "show", NODE, "--json").json()["mgmt"] == before


def test_a_template_pin_is_checked_like_device_set(r12: Callable[..., Any], tmp_path: Path) -> None:
    data = json.loads(json.dumps(load_template("h100-4node-air").data))  # plain dicts, no line tracking
    node = next(d for d in data["devices"] if d.get("management", {}).get("protocol") == "ipmi")
    node["management"]["options"] = {"tls_fingerprint": "not-a-fingerprint"}
    path = tmp_path / "pinned.yaml"
    path.write_text(json.dumps(data))  # YAML is a superset of JSON
    result = r12("rack", "create", "r13", "-t", str(path), "-s", "fra1")
    assert result.exit_code == 2 and "not a SHA-256 certificate fingerprint" in result.stderr
    assert "tls_fingerprint" in result.stderr
