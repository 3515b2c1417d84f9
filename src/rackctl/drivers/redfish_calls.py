"""What the Redfish capability mixins (firmware, BIOS, accounts, media) use of the driver's session.

`RedfishBmc` implements these on its one session; the mixins only name them, so each capability
lives in its own module and every request still goes through the driver's session and its single
place of error translation.
"""

from __future__ import annotations

from typing import Any

from rackctl.drivers import redfish_quirks as quirks
from rackctl.errors import Unsupported
from rackctl.types import Endpoint


class RedfishCalls:
    """The session helpers, implemented by `RedfishBmc`."""

    endpoint: Endpoint

    def _get(self, path: str, where: str, optional: bool = False) -> dict[str, Any] | None:
        raise NotImplementedError

    def _send(self, method: str, path: str, body: dict[str, Any], where: str) -> None:
        raise NotImplementedError

    def _reply(
        self, method: str, path: str, where: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        raise NotImplementedError

    def _checked(self, reply: Any, where: str, path: str) -> None:
        raise NotImplementedError

    def _root(self) -> dict[str, Any]:
        raise NotImplementedError

    def _members(self, path: str, where: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _entry(self, member: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _system_resource(self) -> dict[str, Any]:
        raise NotImplementedError

    def _managers(self, system: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def _service(self, key: str, where: str) -> dict[str, Any]:
        """A service the service root links (UpdateService, AccountService, Registries); refused when absent."""
        link = quirks.link(self._root(), key)
        resource = self._get(link, where, optional=True) if link else None
        if not resource:
            raise Unsupported(f"{where}: this BMC has no {key}")
        return resource

    def _collection(self, path: str, where: str) -> list[dict[str, Any]]:
        """Every member of a collection, each read in full (members that only name themselves are fetched)."""
        return [entry for entry in (self._entry(m) for m in self._members(path, where)) if entry]


def body_of(reply: Any) -> Any:
    """A reply's JSON body, or None when it has none (204, an empty 202)."""
    try:
        return reply.dict if getattr(reply, "text", "") else None
    except ValueError:
        return None
