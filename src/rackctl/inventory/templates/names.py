"""The name rule over a template's literal names; names rendered from patterns are checked as built."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rackctl.errors import Location
from rackctl.inventory.models.profile import PROFILE_FIELDS
from rackctl.inventory.names import check_interface, check_name, check_text, check_token
from rackctl.inventory.serving import check_serving

if TYPE_CHECKING:
    from rackctl.inventory.templates.loader import RackTemplate


# (the rule, what the value is, the value, where it is in the template)
_Check = tuple[Callable[..., str], str, Any, tuple[Any, ...]]


def check_template_names(template: RackTemplate) -> None:
    """Refuse a template whose fixed names break the name rule, naming its line and field."""
    data = template.data
    checks: list[_Check] = [(check_name, "template name", data["name"], ("name",))]
    checks += [
        (check_name, "feed name", f["name"], ("rack", "feeds", i, "name")) for i, f in enumerate(data["rack"]["feeds"])
    ]
    checks += [
        (check_interface, "bond name", b["name"], ("bonds", i, "name")) for i, b in enumerate(data.get("bonds") or [])
    ]
    checks += [
        (check_name, "cable kind", c["kind"], ("cabling", i, "kind")) for i, c in enumerate(data.get("cabling") or [])
    ]
    for index, device in enumerate(data["devices"]):
        if "platform" in device:
            checks.append((check_name, "platform", device["platform"], ("devices", index, "platform")))
        username = (device.get("management") or {}).get("username")
        if username:
            checks.append((check_token, "username", username, ("devices", index, "management", "username")))
    for name, values in (data.get("profiles") or {}).items():
        checks += _profile_checks(name, values)
    for check, label, value, path in checks:
        check(str(value), label, template.where(*path))
    for name, values in (data.get("profiles") or {}).items():
        serving = (values.get("extra") or {}).get("serving")
        if serving is not None:
            check_serving(serving, partial(_serving_location, template, name))


def _serving_location(template: RackTemplate, profile: str, key: str) -> Location | None:
    return template.where("profiles", profile, "extra", "serving", *([key] if key else []))


def _profile_checks(name: str, values: dict[str, Any]) -> list[_Check]:
    checks: list[_Check] = [(check_name, "profile name", name, ("profiles", name))]
    if "description" in values:
        checks.append((check_text, "description", values["description"], ("profiles", name, "description")))
    checks += [
        (check_token, key, values[key], ("profiles", name, key))
        for key in PROFILE_FIELDS
        if isinstance(values.get(key), str)
    ]
    vlans = (values.get("extra") or {}).get("vlans")
    if isinstance(vlans, dict):
        checks += [(check_name, "VLAN name", vlan, ("profiles", name, "extra", "vlans", vlan)) for vlan in vlans]
    return checks
