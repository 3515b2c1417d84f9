"""IPMI user slots and firmware version for `IpmiBmc`: Get User Access/Name (pyghmi `get_users`), Set User
Password (IPMI v2.0, 22.30), and the BMC's firmware revision from Get Device ID."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from rackctl.drivers.bmcconfig import BmcAccount, FirmwareComponent
from rackctl.errors import CommandError, NotFound
from rackctl.types import Secret

T = TypeVar("T")

# Set User Password has a 16-byte and a 20-byte form (IPMI v2.0, 22.30). NOTE(OpenIPMI ipmi_sim 2.0.x): after a
# 20-byte set only the first 16 characters log in (tried here: a 20-character password failed, its 16-character
# prefix worked), so rackctl sets 16 at most, the form every BMC takes.
IPMI_PASSWORD_MAX = 16
_NO_ACCESS = ("no_access", "reserved")  # pyghmi's names for a slot that cannot log in
# pyghmi prints Get Device ID's firmware revision as major.hex(minor), dropping the minor's leading zero: the
# minor is two BCD digits (IPMI v2.0, table 20-2), which ipmitool prints as %02x: 1.02, not 1.2.
_UNPADDED_REVISION = re.compile(r"(\d+)\.([0-9a-f])")


def slot_account(uid: int, info: dict[str, Any]) -> BmcAccount:
    access = info.get("access") or {}
    privilege = str(access.get("privilege_level") or "")
    return BmcAccount(
        id=str(uid),
        username=str(info.get("name") or ""),
        role=privilege,
        enabled=bool(access.get("ipmi_msg")) and privilege not in _NO_ACCESS,
    )


class IpmiAccounts:
    """AccountControl and FirmwareReader over the driver's session (`_call` is `IpmiBmc`'s)."""

    _command: Any

    def _call(self, where: str, fn: Callable[[], T]) -> T:
        raise NotImplementedError

    def accounts(self) -> list[BmcAccount]:
        users = self._call("user list", lambda: self._command.get_users())
        return [slot_account(uid, info) for uid, info in sorted(users.items()) if info.get("name")]

    def password_policy(self) -> tuple[int, int]:
        return 1, IPMI_PASSWORD_MAX

    def set_password(self, account_id: str, password: Secret) -> None:
        if not account_id.isdigit() or account_id not in {a.id for a in self.accounts()}:
            raise NotFound(f"no IPMI user slot {account_id} in use on this BMC")
        if len(password.value.encode()) > IPMI_PASSWORD_MAX:
            raise CommandError(f"an IPMI password has at most {IPMI_PASSWORD_MAX} bytes")
        self._call(
            "set user password", lambda: self._command.set_user_password(int(account_id), password=password.value)
        )

    def firmware(self) -> list[FirmwareComponent]:
        """What Get Device ID (and the OEM extensions pyghmi knows) report; IPMI names no other component."""
        items = dict(self._call("firmware", lambda: list(self._command.get_firmware())))
        found = []
        for name, info in items.items():
            kind = "bmc" if "bmc" in name.lower() else "bios" if "bios" in name.lower() else "other"
            version = str((info or {}).get("version", ""))
            if name == "BMC Version" and (unpadded := _UNPADDED_REVISION.fullmatch(version)):
                version = f"{unpadded[1]}.0{unpadded[2]}"
            found.append(FirmwareComponent(name, name, version, kind, updateable=False))
        return found
