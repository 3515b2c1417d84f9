"""A device's management endpoint as the value drivers take: the one place an Endpoint is made from a row."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from rackctl import secrets
from rackctl.config import Settings
from rackctl.errors import ValidationError
from rackctl.inventory import fields, queries
from rackctl.inventory.models import Device
from rackctl.types import Endpoint, Secret


def management_endpoint(
    device: Device, resolve_secrets: bool = True, settings: Settings | None = None, known: Known | None = None
) -> Endpoint | None:
    """The device's out-of-band endpoint, or None without an address.

    With `resolve_secrets` the password (and an SNMPv3 privacy key) are Secrets read when a driver first
    needs them, inside the target's deadline; without, the references stay in `options` (`credential_ref`,
    `priv_ref`) for whoever opens the session later. `settings`: the secret policy, read once by a caller
    making many endpoints (else read here, a TOML file each time); `known`: the Secrets already made for
    other devices of the same call, by reference, so that a credential many BMCs share is checked and read
    once (its first reader does it inside its own deadline; a failed read is not kept, each reader fails).
    """
    mgmt = device.mgmt
    if mgmt is None or not mgmt.address:
        return None
    if mgmt.port is not None and not fields.is_port(mgmt.port):
        # Written before every write path checked ports (or straight into the database): refuse this
        # target alone, before a socket call turns it into an OverflowError.
        raise ValidationError(
            f"{device.name}: management port {mgmt.port} is not a port number (1-65535)",
            hint=f"rackctl device set {device.name} --mgmt-port PORT",
        )
    options = {"system_id": mgmt.system_id or "", **(mgmt.options or {})}
    if device.platform and not options.get("family"):
        options["family"] = device.platform  # PDUs: which vendor's OIDs
    password = None
    if resolve_secrets:
        password = _deferred(mgmt.credential_ref, settings, known) if mgmt.credential_ref else None
        if options.get("priv_ref"):
            options["priv_key"] = _deferred(str(options.pop("priv_ref")), settings, known)
    else:
        options["credential_ref"] = mgmt.credential_ref
    return Endpoint(
        name=device.name,
        address=mgmt.address,
        port=mgmt.port,
        protocol=mgmt.effective_protocol.value,
        username=mgmt.username,
        password=password,
        verify_tls=mgmt.verify_tls,
        options=options,
    )


Known = dict[str, Secret]  # a secret reference -> the one deferred Secret made for it


def _deferred(ref: str, settings: Settings | None, known: Known | None) -> Secret:
    if known is None:
        return secrets.deferred(ref, settings)
    if ref not in known:
        known[ref] = secrets.deferred(ref, settings)
    return known[ref]


def pinned_keys(device: Device) -> list[list[str]]:
    """The SSH host keys the inventory pins for the device, as drivers take them ([key type, base64] pairs)."""
    return [[k.key_type, k.key] for k in device.host_keys]


def ssh_endpoint(
    name: str, address: str, port: int | None, username: str, credential_ref: str, options: dict[str, Any]
) -> Endpoint:
    """An SSH endpoint (switches, hosts) whose secrets are read when the session opens, inside its deadline.

    The enable secret is the endpoint's own `enable_ref`, or the login password only where the endpoint
    says `enable_uses_login: true`; otherwise none is sent.
    """
    extra = dict(options)
    password = secrets.deferred(credential_ref) if credential_ref else None
    enable_ref = str(extra.pop("enable_ref", "") or "")
    extra.pop("enable_secret", None)  # only ever a Secret made here, never a value from the inventory
    if enable_ref:
        extra["enable_secret"] = secrets.deferred(enable_ref)
    elif extra.get("enable_uses_login") is True and password is not None:
        extra["enable_secret"] = password
    return Endpoint(name, address, port, "ssh", username, password, options=extra)


def credential_names(session: Session, names: Sequence[str]) -> list[str]:
    """The systemd credentials (cred:NAME) the named devices' endpoints refer to, for LoadCredential=."""
    found = set()
    for device in queries.devices(session, names):
        mgmt = device.mgmt
        if mgmt is None:
            continue
        options = mgmt.options or {}
        refs = [mgmt.credential_ref, options.get("priv_ref"), options.get("enable_ref")]
        found |= {str(r).removeprefix("cred:") for r in refs if isinstance(r, str) and r.startswith("cred:")}
    return sorted(found)


def unresolvable(addresses: Iterable[str]) -> dict[str, str]:
    """Host names among `addresses` that DNS (or /etc/hosts) cannot resolve -> the resolver's reason.

    A name that does not resolve is a different fault from a device that does not answer (a typo or a
    missing DNS record, not a dead BMC), so callers say which.
    """
    names = sorted({a for a in addresses if a and not _is_ip(a)})
    if not names:
        return {}
    with ThreadPoolExecutor(max_workers=min(32, len(names))) as pool:
        reasons = dict(zip(names, pool.map(_resolve_error, names), strict=True))
    return {name: reason for name, reason in reasons.items() if reason}


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve_error(name: str) -> str:
    try:
        socket.getaddrinfo(name, None)
    except socket.gaierror as exc:
        return str(exc.strerror)
    except (UnicodeError, OSError) as exc:
        return str(exc)
    return ""
