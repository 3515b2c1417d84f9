"""Redfish accounts: the AccountService's ManagerAccounts, and a password change by PATCH.

The flow of DMTF's Redfish-Tacklebox (redfish_utilities/accounts.py `modify_user`) and Dell's
ChangeIdracUserPasswordREDFISH.py: PATCH {"Password": ...} on the account itself.
"""

from __future__ import annotations

from typing import Any

from rackctl.drivers import redfish_quirks as quirks
from rackctl.drivers.bmcconfig import BmcAccount
from rackctl.drivers.redfish_calls import RedfishCalls
from rackctl.errors import CommandError, NotFound, Unsupported
from rackctl.types import Secret


def account(resource: dict[str, Any]) -> BmcAccount | None:
    """One account, or None for an unused slot.

    NOTE(Dell iDRAC 9): the collection lists all 16 slots; a deleted or never used one has an empty UserName
    (CreateDeleteIdracUsersREDFISH.py deletes by PATCHing Enabled false and RoleId "None").
    """
    username = str(resource.get("UserName") or "")
    if not username:
        return None
    return BmcAccount(
        id=str(resource.get("Id") or str(resource.get("@odata.id", "")).rstrip("/").rsplit("/", 1)[-1]),
        username=username,
        role=str(resource.get("RoleId") or ""),
        enabled=bool(resource.get("Enabled", True)),
        locked=bool(resource.get("Locked", False)),
    )


class RedfishAccounts(RedfishCalls):
    """AccountControl over the driver's session."""

    def _accounts_link(self) -> str:
        link = quirks.link(self._service("AccountService", "account service"), "Accounts")
        if not link:
            raise Unsupported("this BMC's AccountService lists no accounts")
        return link

    def _account_resources(self) -> list[dict[str, Any]]:
        return self._collection(self._accounts_link(), "accounts")

    def password_policy(self) -> tuple[int, int]:
        """(shortest, longest) password the AccountService takes.

        When it does not say, at most 16: on most BMCs the Redfish account is also the IPMI user, and the
        16-byte form of IPMI's Set User Password is the one every BMC takes (see ipmi_accounts).
        """
        service = self._service("AccountService", "account service")
        shortest = service.get("MinPasswordLength")
        longest = service.get("MaxPasswordLength")
        return (
            int(shortest) if isinstance(shortest, int) else 8,
            int(longest) if isinstance(longest, int) else 16,
        )

    def accounts(self) -> list[BmcAccount]:
        return [found for found in (account(r) for r in self._account_resources()) if found is not None]

    def set_password(self, account_id: str, password: Secret) -> None:
        for resource in self._account_resources():
            found = account(resource)
            if found is not None and found.id == account_id and resource.get("@odata.id"):
                self._patch_password(str(resource["@odata.id"]), password)
                return
        raise NotFound(f"no account with id {account_id} on this BMC")

    def _patch_password(self, path: str, password: Secret) -> None:
        try:
            self._send("patch", path, {"Password": password.value}, "password change")
        except CommandError as exc:
            # A BMC's refusal may quote the value it refused (Base PropertyValueFormatError does).
            raise CommandError(str(exc).replace(password.value, "***"), hint=exc.hint) from None
