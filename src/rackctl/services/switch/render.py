"""Render a switch's intent into its platform's configuration with the Jinja2 templates shipped as package data."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from rackctl.errors import ConfigError, ValidationError
from rackctl.services.switch.model import LACP_FALLBACK_TIMEOUT_S, SwitchIntent
from rackctl.services.switch.quoting import check_intent, cli_text, double_quoted, sh

if TYPE_CHECKING:
    import jinja2

# What each platform's rendered configuration is: the driver applies it in the matching way.
FORMATS = {
    "eos": "cli",
    "nxos": "cli",
    "onyx": "lines",
    "cumulus": "nvue",
    "sonic": "json",
    "linux": "file",
}


def port_number(name: str) -> int:
    """The front-panel number of a port name: Ethernet1/29 -> 29, swp7 -> 7."""
    numbers = re.findall(r"\d+", name)
    if not numbers:
        raise ValidationError(f"refusing to render: port {name!r} has no number")
    return int(numbers[1] if name.startswith("Ethernet") and len(numbers) > 1 else numbers[0])


def bridge_ports(intent: SwitchIntent) -> list[str]:
    """The ports a Linux switch's VLAN-aware bridge holds: bonds, lone ports, the peer link."""
    ports = [f"bond{c.number}" for c in intent.channels]
    ports += [p.name for p in intent.ports if p.channel is None and p.mode != "ib"]
    return ports + (["peerlink"] if intent.mlag else [])


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2  # the 'switch' extra: imported when a configuration is rendered, not by every importer

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rackctl", "data/switch_templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        # NOTE(security): autoescape is HTML escaping, wrong for CLI lines, shell words and JSON. Intent is
        # checked by check_intent before rendering and each template quotes free text with the filters of
        # quoting.py (cli_text, double_quoted, sh); SONiC's JSON goes through tojson.
        autoescape=False,  # NOTE(security): see above; tests/security/test_render_property.py holds it
    )
    env.filters.update(port_number=port_number, cli_text=cli_text, double_quoted=double_quoted, sh=sh)
    env.globals.update(bridge_ports=bridge_ports, fallback_timeout=LACP_FALLBACK_TIMEOUT_S)
    return env


def render(intent: SwitchIntent) -> str:
    """The configuration text for one switch; ends with a newline."""
    if intent.platform not in FORMATS:
        raise ConfigError(f"{intent.name}: no template for platform {intent.platform!r}")
    check_intent(intent)
    text = _environment().get_template(f"{intent.platform}.j2").render(s=intent)
    return text if text.endswith("\n") else text + "\n"
