"""Certificates for simulated BMCs: a CA made for one lab and the certificates it signs.

The inventory then trusts the lab's CA (the endpoint's `cafile`), as a site trusts the CA that signs its
BMC certificates, so TLS stays verified in the lab. Private keys are written owner-only from their first
byte; the CA's key is never written at all (nothing needs it after signing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from rackctl.secrets import private_folder, write_private

VALID_DAYS = 30


@dataclass(frozen=True)
class CertifiedKey:
    """A private key and the certificate that vouches for it."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class Authority(CertifiedKey):
    """The lab's own CA: it signs what the lab's services present."""


class Issued(CertifiedKey):
    """A service's certificate, signed by the lab's authority."""

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate, as `openssl x509 -fingerprint -sha256` prints it."""
        return ":".join(f"{b:02X}" for b in self.certificate.fingerprint(hashes.SHA256()))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def make_authority(name: str) -> Authority:
    """A new CA (its key lives in memory only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)  # keyCertSign, cRLSign
    certificate = (
        _builder(name, None, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def issue(authority: Authority | None, name: str, addresses: Sequence[str]) -> Issued:
    """A server certificate for the IP addresses, signed by `authority` (self-signed when None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = authority.certificate.subject if authority else None
    names = [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    builder = (
        _builder(name, issuer, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    signer = authority.key if authority else key
    if authority is not None:
        identifier = x509.AuthorityKeyIdentifier.from_issuer_public_key(authority.key.public_key())
        builder = builder.add_extension(identifier, critical=False)
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def write_issued(folder: Path, name: str, issued: Issued) -> tuple[str, str]:
    """Write NAME.crt and NAME.key (0600) into an owner-only folder; returns their paths."""
    private_folder(folder)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    cert.write_bytes(issued.pem)
    write_private(key, issued.key_pem.decode())
    return str(cert), str(key)
