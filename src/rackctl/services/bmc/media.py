"""Virtual media: what each BMC's virtual CD holds, inserting an image (by URL, or a local file served by
rackctl like firmware images) and ejecting it. The node then boots from it with `rackctl boot cd --once`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rackctl import fanout
from rackctl.drivers.base import VirtualMediaControl
from rackctl.drivers.bmcconfig import MediaSlot
from rackctl.errors import Unsupported
from rackctl.inventory.db import Database
from rackctl.services.bmc import BmcTarget, execute, load_targets, require, with_driver
from rackctl.services.bmc.images import checked, local_address, serving, url
from rackctl.services.bmc.rollout import Rollout, acting, in_batches, in_service_guard
from rackctl.services.oob import Done


@dataclass(frozen=True)
class MediaOptions:
    rollout: Rollout = field(default_factory=Rollout)
    sha256: str = ""  # checked when given; recorded either way
    cache: Path = Path("/tmp")
    serve_address: str = ""
    hold: Callable[[], None] = lambda: None  # runs while a local file is still served (the BMCs read it as they boot)


MediaDone = Done  # a media change: its message and the slot's image before/after


def read_media(bmc: Any) -> list[MediaSlot]:
    require(bmc, VirtualMediaControl)
    return list(bmc.media())


def cd_slot(slots: list[MediaSlot]) -> MediaSlot:
    """The slot that takes CD/DVD images (the first one when a BMC offers several)."""
    found = [s for s in slots if s.is_cd]
    if not found:
        raise Unsupported(f"no virtual CD/DVD among this BMC's media ({', '.join(s.id for s in slots) or 'none'})")
    return found[0]


def insert(url: str) -> Callable[[Any], MediaDone]:
    """Insert `url` into the virtual CD read-only; whatever was in it is ejected first.

    NOTE(Dell iDRAC 9, sushy-tools): InsertMedia on a slot that holds an image is refused, so eject first.
    """

    def apply(bmc: Any) -> MediaDone:
        slot = cd_slot(read_media(bmc))
        if slot.inserted:
            bmc.eject_media(slot.id)
        bmc.insert_media(slot.id, url)
        return MediaDone(f"{slot.id}: {url}", {"slot": slot.id, "before": slot.image or None, "after": url})

    return apply


def eject(bmc: Any) -> MediaDone:
    slot = cd_slot(read_media(bmc))
    if not slot.inserted:
        return MediaDone(f"{slot.id}: already empty", {"slot": slot.id, "before": None, "after": None})
    bmc.eject_media(slot.id)
    return MediaDone(f"{slot.id}: ejected {slot.image}", {"slot": slot.id, "before": slot.image, "after": None})


def insert_run(
    db: Database,
    actor: str,
    command: str,
    names: Sequence[str],
    image: str,
    options: MediaOptions,
    fan: fanout.Options,
) -> list[fanout.Result[Any]]:
    """Insert `image` on every node (a local file served by rackctl, which keeps serving while `hold` runs)."""
    rollout = options.rollout
    if urlsplit(image).scheme in ("http", "https"):
        given = url(image)
        return change_run(db, actor, command, names, lambda _target: insert(given), rollout, fan, {"image": given})
    served = checked(image, options.sha256, options.cache, required=False)
    try:
        with db.transaction() as session:
            targets, _, _ = load_targets(session, names)
        addresses = {t.name: options.serve_address or local_address(t.endpoint.address) for t in targets}
        with serving(addresses.values()) as servers:
            urls = {name: servers[address].add(served) for name, address in addresses.items()}
            intent = {"image": image, "sha256": served.sha256}
            results = change_run(db, actor, command, names, lambda t: insert(urls[t.name]), rollout, fan, intent)
            if any(r.ok for r in results):
                options.hold()
    finally:
        served.close()
    return results


def touchable(db: Database, names: Sequence[str], allow_in_service: bool) -> list[str]:
    """The nodes a media change would really touch (in-service ones only when allowed)."""
    with db.transaction() as session:
        return in_service_guard(session, names, allow_in_service)[0]


Operation = Callable[[BmcTarget], Callable[[Any], Any]]  # the driver operation for one node


def change_run(
    db: Database, actor: str, command: str, names: Sequence[str], operation: Operation, rollout: Rollout,
    fan: fanout.Options, intent: dict[str, Any] | None = None,
) -> list[fanout.Result[Any]]:  # fmt: skip
    """A media change on every node: in-service guard, leases, the log before and after, batches."""
    with db.transaction() as session:
        allowed, refused = in_service_guard(session, names, rollout.allow_in_service)
        targets, unreachable, _ = load_targets(session, allowed)
    by_name = {t.name: t for t in targets}

    def batch(group: list[str]) -> list[fanout.Result[Any]]:
        chosen = [by_name[name] for name in group]
        return execute(command, chosen, lambda t: with_driver(operation(t))(t), fan).results

    with acting(db, actor, command, {t.name: dict(intent or {}) for t in targets}, "changed (virtual media)") as act:
        results = act.refused + in_batches(act.free(list(by_name)), rollout, act.logged(batch))
        act.finish(results, fan)
    return refused + unreachable + results


def eject_if(image: str) -> Callable[[Any], MediaDone]:
    """Eject only where the virtual CD holds `image` (compared by its file name, as BMCs may rewrite URLs)."""

    def apply(bmc: Any) -> MediaDone:
        slot = cd_slot(read_media(bmc))
        if not slot.inserted or not slot.image.endswith(image.rsplit("/", 1)[-1]):
            return MediaDone(f"{slot.id}: holds {slot.image or 'nothing'}, not {image}; left alone", {"slot": slot.id})
        return eject(bmc)

    return apply
