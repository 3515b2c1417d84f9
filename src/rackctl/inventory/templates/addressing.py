"""Address pools of a template: each rack takes the first subnet of the pool with nothing in it."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rackctl.errors import ValidationError
from rackctl.inventory.models import Device, IpAddress, ManagementEndpoint

if TYPE_CHECKING:
    from rackctl.inventory.templates.build import Built


Used = set[tuple[int, int]]  # (IP version, address as a number)


def used_addresses(session: Session) -> Used:
    """Every address the inventory already holds: hosts and management endpoints."""
    found = set()
    for text in [
        *session.scalars(select(IpAddress.address)),
        *session.scalars(select(ManagementEndpoint.address)),
    ]:
        number = _number(text)
        if number is not None:  # else a hostname, not an address
            found.add(number)
    return found


def _number(text: str) -> tuple[int, int] | None:
    """An address as (version, number); read by the C parser: every rack built reads every address the
    inventory holds, and an ipaddress object of each made the hundredth rack cost 5 ms more than the first."""
    for version, family, address in ((4, socket.AF_INET, text), (6, socket.AF_INET6, text.partition("%")[0])):
        try:  # an IPv6 zone (fe80::1%eth0) is not part of the number, as for ipaddress
            return version, int.from_bytes(socket.inet_pton(family, address), "big")
        except (OSError, ValueError):  # OSError: not this family; ValueError: a NUL in the text
            continue
    return None


def _free_subnets(pool: dict[str, Any], used: Used, count: int, where: Any) -> list[Any]:
    try:
        network = ipaddress.ip_network(pool["network"])
    except ValueError as exc:
        raise ValidationError(str(exc), where) from None
    if not network.prefixlen <= pool["prefix"] <= network.max_prefixlen:
        raise ValidationError(f"prefix /{pool['prefix']} does not fit inside pool {network}", where)
    subnets = network.subnets(new_prefix=pool["prefix"])
    # The subnets holding a used address, once, as numbers (the address without its host bits): testing every
    # used address against every candidate subnet, or making a network object of each, made each rack cost
    # more than the one before.
    shift = network.max_prefixlen - pool["prefix"]
    taken = {number >> shift for version, number in used if version == network.version}
    chosen = []
    for subnet in subnets:
        if int(subnet.network_address) >> shift not in taken:
            chosen.append(subnet)
            if len(chosen) == count:
                return chosen
    raise ValidationError(f"pool {network} has no {count} free /{pool['prefix']} subnet(s) left", where)


def _hosts(subnet: Any, first: int, wanted: int, where: Any) -> list[str]:
    hosts = list(subnet.hosts())[first - 1 :]
    if len(hosts) < wanted:
        raise ValidationError(f"/{subnet.prefixlen} gives {len(hosts)} addresses from {first}, {wanted} needed", where)
    return [str(h) for h in hosts[:wanted]]


def assign_addresses(session: Session, built: Built) -> None:
    """Give management endpoints and host interfaces their addresses, rack by rack."""
    pools = built.template.data.get("addressing") or {}
    used = used_addresses(session)
    for kind in ("management", "host"):
        if kind not in pools:
            continue
        pool, where = pools[kind], built.template.where("addressing", kind)
        subnets = _free_subnets(pool, used, len(built.racks), where)
        for rack, subnet in zip(built.racks, subnets, strict=True):
            members = [d for d in built.devices if d.rack is rack and _wants(built, kind, pool, d)]
            addresses = _hosts(subnet, pool.get("first", 10), len(members), where)
            for device, address in zip(members, addresses, strict=True):
                _assign(built, kind, pool, device, address, subnet.prefixlen)
            # A second pool drawing from the same network must not get this subnet again.
            used.add((subnet.version, int(subnet.network_address)))


def _wants(built: Built, kind: str, pool: dict[str, Any], device: Device) -> bool:
    roles = pool.get("roles")
    if roles is not None and device.role not in ([roles] if isinstance(roles, str) else roles):
        return False
    if kind == "management":
        return device.mgmt is not None
    return built.interface(device, pool.get("interface", "")) is not None


def _assign(built: Built, kind: str, pool: dict[str, Any], device: Device, address: str, prefix: int) -> None:
    if kind == "management":
        assert device.mgmt is not None
        device.mgmt.address = address
        return
    interface = built.interface(device, pool["interface"])
    assert interface is not None
    built.add(IpAddress, interface_id=interface, address=address, prefix_len=prefix)
