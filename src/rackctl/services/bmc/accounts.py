"""BMC accounts: list them with the factory defaults still enabled, and rotate the password rackctl uses.

Rotation of one BMC: the new password is first kept beside the secret reference (`<file>.pending`,
0600), then set on the BMC (Redfish PATCH of the account; IPMI Set User Password), then proven with a
new login; only then is the reference rewritten and the pending copy removed. If the new login fails,
the old password is tried: the result says which credential works, and a new password that is the
only working one stays in the pending file. BMCs that share one reference are rotated to one shared
password; if any of them fails, those already changed are set back, so the shared reference stays
true for all of them.
"""

from __future__ import annotations

import secrets as token
import string
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rackctl.drivers.base import AccountControl, PowerControl
from rackctl.drivers.bmcconfig import BmcAccount
from rackctl.errors import CommandError, NotFound, RackctlError
from rackctl.services.bmc import BmcTarget, driver_for, require
from rackctl.services.bmc import secret_store as store
from rackctl.services.oob import Done
from rackctl.types import Endpoint, Secret

# Factory accounts by user name, and whose default each is. A default account still enabled is flagged.
FACTORY_ACCOUNTS: dict[str, str] = {
    # NOTE(Dell iDRAC): root/calvin - the example credentials of Dell's iDRAC-Redfish-Scripting scripts.
    # NOTE(OpenBMC): root/0penBmc - OpenBMC's development documentation ("default root/0penBmc login").
    "root": "Dell iDRAC (root/calvin), OpenBMC (root/0penBmc)",
    # NOTE(HPE iLO 4/5/6): Administrator, its password printed on the server's pull-out tag.
    "Administrator": "HPE iLO (Administrator)",
    # NOTE(Supermicro, boards before 2020): ADMIN/ADMIN; NOTE(Lenovo XCC/IMM): USERID/PASSW0RD (zero).
    "ADMIN": "Supermicro (ADMIN/ADMIN)",
    "USERID": "Lenovo XCC (USERID/PASSW0RD)",
}
SYMBOLS = "-_.!"  # accepted by every BMC policy we know of; no quotes, no shell or URL metacharacters


@dataclass(frozen=True)
class Users:
    accounts: tuple[BmcAccount, ...]
    flagged: tuple[str, ...] = ()  # "root: factory default of Dell iDRAC (...), still enabled"

    @property
    def message(self) -> str:
        warn = f"; FACTORY DEFAULT still enabled: {', '.join(self.flagged)}" if self.flagged else ""
        return f"{len(self.accounts)} account(s){warn}"

    def __str__(self) -> str:
        return self.message


def read_users(bmc: Any) -> Users:
    require(bmc, AccountControl)
    accounts = tuple(bmc.accounts())
    flagged = tuple(
        f"{a.username} ({FACTORY_ACCOUNTS[a.username]})"
        for a in accounts
        if a.enabled and a.username in FACTORY_ACCOUNTS
    )
    return Users(accounts, flagged)


def generate(length: int = 20) -> Secret:
    """A random password with upper and lower case letters, digits and a symbol (BMC policies ask for them)."""
    length = max(8, length)
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, SYMBOLS)
    alphabet = string.ascii_letters + string.digits + SYMBOLS
    while True:
        value = "".join(token.choice(alphabet) for _ in range(length))
        if all(any(c in pool for c in value) for pool in pools) and value[0].isalnum():
            return Secret(value)


Rotated = Done  # a rotated BMC: its message and {"account", "working"}


class RotationFailed(CommandError):
    """The rotation of one BMC failed; `detail["working"]` says which credential logs in now."""

    def __init__(self, message: str, working: str) -> None:
        super().__init__(message)
        self.detail = {"working": working}


def with_password(target: BmcTarget, password: Secret) -> BmcTarget:
    return replace(target, endpoint=Endpoint(**{**target.endpoint.__dict__, "password": password}))


def logs_in(target: BmcTarget) -> bool:
    """Whether a new session with the target's credential opens and answers a read."""
    try:
        with driver_for(target) as bmc:
            require(bmc, PowerControl)
            bmc.power_state()
        return True
    except RackctlError:
        return False


def set_password(target: BmcTarget, password: Secret, new: bool = True) -> str:
    """Set the password of the account the target logs in as; returns the account's id. A new password must
    fit the BMC's policy; an old one being put back is taken as it was."""
    with driver_for(target) as bmc:
        require(bmc, AccountControl)
        shortest, longest = bmc.password_policy()
        if new and not shortest <= len(password.value) <= longest:
            raise CommandError(f"the BMC takes passwords of {shortest} to {longest} characters")
        mine = [a for a in bmc.accounts() if a.username == target.endpoint.username]
        if not mine:
            raise NotFound(f"no account named {target.endpoint.username!r} on this BMC")
        bmc.set_password(mine[0].id, password)
        return mine[0].id


def longest(targets: Sequence[BmcTarget], wanted: int) -> int:
    """The password length to generate: `wanted`, or less where a BMC's policy takes no more."""
    for target in targets:
        with driver_for(target) as bmc:
            require(bmc, AccountControl)
            shortest, most = bmc.password_policy()
        wanted = max(shortest, min(wanted, most))
    return wanted


def change(target: BmcTarget, new: Secret) -> str:
    """Set `new` and prove it; on failure say which credential works (raises RotationFailed)."""
    old = target.endpoint.password or Secret("")
    try:
        account = set_password(target, new)
    except RackctlError as exc:
        raise RotationFailed(f"password not changed: {exc}; the old password still works", "old") from None
    if logs_in(with_password(target, new)):
        return account
    if logs_in(target):
        raise RotationFailed("the BMC took the new password but a login with it failed; the old one still works", "old")
    with suppress(RackctlError):
        set_password(with_password(target, new), old, new=False)  # a last try to leave the reference true
    working = "old" if logs_in(target) else "none"
    raise RotationFailed(f"neither the new nor the old password logs in (working: {working})", working)


def rotate_one(target: BmcTarget, reference: str, length: int) -> Rotated:
    """Rotate one BMC whose reference no other BMC shares."""
    new = generate(longest([target], length))
    pending = store.pending_path(reference)
    store.write_private(pending, new.value + "\n")
    try:
        account = change(target, new)
    except RotationFailed as exc:
        if exc.detail["working"] == "old":
            pending.unlink(missing_ok=True)
        else:
            exc.args = (f"{exc.args[0]}; the new password is kept in {pending}",)
        raise
    _rewrite(reference, new, pending)
    return Rotated(f"rotated (account {account}); {reference} rewritten", {"account": account, "working": "new"})


def _rewrite(reference: str, new: Secret, pending: Path) -> None:
    """Write the proven password to the reference; if that fails now, the BMC still has a working credential
    (the new one, kept in the pending file) and the result says so."""
    try:
        store.write_reference(reference, new.value)
    except RackctlError as exc:
        message = f"the new password works but {reference} could not be rewritten ({exc}); it is kept in {pending}"
        raise RotationFailed(message, "new") from None
    pending.unlink(missing_ok=True)


def rotate_shared(targets: Sequence[BmcTarget], reference: str, length: int) -> list[Rotated | RotationFailed]:
    """Rotate BMCs that share one reference to one new password; all of them, or none of them."""
    new = generate(longest(targets, length))
    pending = store.pending_path(reference)
    store.write_private(pending, new.value + "\n")
    outcomes: list[Rotated | RotationFailed] = []
    for target in targets:
        try:
            outcomes.append(Rotated(f"account {change(target, new)}", {"working": "new"}))
        except RotationFailed as exc:
            outcomes.append(exc)
    if all(isinstance(o, Rotated) for o in outcomes):
        try:
            _rewrite(reference, new, pending)
        except RotationFailed as exc:
            return [exc for _ in targets]
        return [Rotated(f"rotated ({o}); shared {reference} rewritten", {"working": "new"}) for o in outcomes]
    return _set_back(targets, outcomes, reference, new, pending)


def _set_back(
    targets: Sequence[BmcTarget], outcomes: list[Rotated | RotationFailed], reference: str, new: Secret, pending: Any
) -> list[Rotated | RotationFailed]:
    """Return the BMCs that took the new password to the old one, so the shared reference stays true."""
    back: list[Rotated | RotationFailed] = []
    for target, outcome in zip(targets, outcomes, strict=True):
        if isinstance(outcome, RotationFailed):
            back.append(outcome)
            continue
        try:
            set_password(with_password(target, new), target.endpoint.password or Secret(""), new=False)
            back.append(RotationFailed(f"set back to the old password: another BMC sharing {reference} failed", "old"))
        except RackctlError as exc:
            back.append(RotationFailed(f"keeps the new password (in {pending}); setting back failed: {exc}", "new"))
    if all(o.detail.get("working") == "old" for o in back if isinstance(o, RotationFailed)):
        pending.unlink(missing_ok=True)
    return back
