"""Which platform names a device may be given, by role: the one check every write of a platform uses.

A PDU's platform is a MIB family (or an alias of one) or `auto`, detection at each session; a
switch's is one rackctl renders and pushes for; other devices (nodes, console servers, storage)
take a short lowercase token, which nothing renders or runs.
"""

from __future__ import annotations

import re

from rackctl.drivers.pdu_families import platforms as pdu_platforms
from rackctl.errors import ValidationError
from rackctl.types import SWITCH_ROLES, DeviceRole

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


def switch_platforms() -> list[str]:
    from rackctl.drivers.switch_platforms import PLATFORMS  # only where a switch platform is written

    return sorted(PLATFORMS)


def check_platform(role: DeviceRole, value: str, where: str = "--platform") -> str:
    """The platform as stored (trimmed, lowercase), or ValidationError naming what is allowed."""
    platform = value.strip().lower()
    if role == DeviceRole.PDU:
        allowed = pdu_platforms()
    elif role in SWITCH_ROLES:
        allowed = switch_platforms()
    else:
        if not _TOKEN.match(platform):
            raise ValidationError(f"{where}: '{value}' is not a platform name (a-z, 0-9, '.', '_', '-'; 32 at most)")
        return platform
    if platform not in allowed:
        raise ValidationError(f"{where}: '{value}' is not a {role.value} platform (known: {', '.join(allowed)})")
    return platform
