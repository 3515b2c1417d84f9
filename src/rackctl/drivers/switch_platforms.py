"""Each switch platform's safe way to change its configuration, on top of one netmiko session.

EOS: a configuration session committed with a timer (commit-confirm); NX-OS: a named checkpoint and
`rollback running-config checkpoint`; Cumulus NVUE: `nv config apply --confirm`; SONiC: a config
checkpoint and `config rollback`; Onyx: a saved configuration file to switch back to; Linux-based switches:
the ifupdown2 file replaced with a backup kept beside it, `ifreload -a`, `ifquery --check -a`.
"""

from __future__ import annotations

import base64
import json
import shlex
import time
from typing import TYPE_CHECKING, ClassVar

from rackctl.errors import CommandError, ConfigError, Unsupported

if TYPE_CHECKING:
    from rackctl.drivers.switch_netmiko import NetmikoSwitch

CHECKPOINT = "rackctl-push"
# A pushed configuration reverts by itself unless confirmed within this time (where the platform can).
CONFIRM_TIMEOUT = "00:10:00"
# Shell lines longer than the terminal's canonical line limit (4095 bytes) are cut: write files in chunks.
_CHUNK = 2000


def config_lines(candidate: str) -> list[str]:
    """The candidate's lines as the device will read them, refused if any holds an unprintable character.

    Only `\n` ends a line here, as on the device: a carriage return, vertical tab or Unicode line
    separator inside a name would otherwise end a comment for one reader and not for the other, and
    the rest of the "comment" would run as a command.
    """
    lines = candidate.removesuffix("\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if not (line.isascii() and line.isprintable()):
            raise ConfigError(f"refusing to send line {number} of the configuration: {ascii(line)[:80]}")
    return lines


def cli_lines(candidate: str) -> list[str]:
    """Configuration lines to send: comments, blank lines and `end` dropped, indentation kept."""
    return [
        line.rstrip()
        for line in config_lines(candidate)
        if line.strip() and not line.lstrip().startswith(("!", "#")) and line.strip() != "end"
    ]


def nvue_commands(candidate: str) -> list[list[str]]:
    """The NVUE commands of a rendered Cumulus configuration as argument lists: `nv set|unset ...` only."""
    commands = []
    for line in cli_lines(candidate):
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise ConfigError(f"refusing to send {ascii(line)[:80]}: {exc}") from None
        if argv[:2] not in (["nv", "set"], ["nv", "unset"]) or len(argv) < 3:
            raise ConfigError(f"refusing to send {ascii(line)[:80]}: not an 'nv set' or 'nv unset' command")
        commands.append(argv)
    return commands


def command_lines(commands: list[list[str]], limit: int = _CHUNK) -> list[str]:
    """Commands re-quoted word by word and joined with `&&` into shell lines of at most about `limit`."""
    lines: list[str] = []
    for argv in commands:
        word = shlex.join(argv)
        if lines and len(lines[-1]) + len(word) + 4 <= limit:
            lines[-1] += " && " + word
        else:
            lines.append(word)
    return lines


def with_defaults(lines: list[str]) -> list[str]:
    """Reset each interface before configuring it, so lines the inventory no longer wants disappear."""
    out = []
    for line in lines:
        if line.startswith("interface "):
            out.append(f"default {line}")
        out.append(line)
    return out


class Platform:
    device_type: ClassVar[str] = "linux"
    needs_enable: ClassVar[bool] = False
    lldp: ClassVar[tuple[str, str]] = ("lldpctl", "sudo lldpctl -f json")
    show_running: ClassVar[str] = "show running-config"

    def __init__(self, switch: NetmikoSwitch) -> None:
        self.switch = switch
        self.stamp = time.strftime("%Y%m%d%H%M%S")

    def running_config(self) -> str:
        return self.switch.send(self.show_running)

    def apply(self, candidate: str) -> None:
        raise Unsupported(f"{self.switch.endpoint.name}: pushing to {type(self).__name__} is not supported")

    def verify(self) -> list[str]:
        return []

    def confirm(self) -> None:
        return None

    def rollback(self) -> None:
        return None

    def write_file(self, path: str, text: str) -> None:
        """Put a file on a Linux-based switch through the shell, in chunks a terminal line can hold."""
        encoded = base64.b64encode(text.encode()).decode()
        staging = shlex.quote(path + ".b64")
        self.switch.shell(f": > {staging}")
        for start in range(0, len(encoded), _CHUNK):
            self.switch.shell(f"printf %s {encoded[start : start + _CHUNK]} >> {staging}")
        self.switch.shell(f"base64 -d {staging} > {shlex.quote(path)} && rm -f {staging}")


class Eos(Platform):
    device_type = "arista_eos"
    needs_enable = True
    lldp = ("textfsm", "show lldp neighbors")

    @property
    def session(self) -> str:
        return f"rackctl-{self.stamp}"

    def apply(self, candidate: str) -> None:
        # NOTE(Arista EOS 4.2x): a session stages every line and commits atomically; `commit timer`
        # reverts by itself unless `configure session NAME commit` confirms within the timer.
        lines = [*with_defaults(cli_lines(candidate)), f"commit timer {CONFIRM_TIMEOUT}"]
        self.switch.configure(lines, mode_command=f"configure session {self.session}")

    def confirm(self) -> None:
        self.switch.send(f"configure session {self.session} commit")
        self.switch.send("copy running-config startup-config")

    def rollback(self) -> None:
        self.switch.send(f"configure session {self.session} abort")


class Nxos(Platform):
    device_type = "cisco_nxos"
    needs_enable = True
    lldp = ("textfsm", "show lldp neighbors")

    def apply(self, candidate: str) -> None:
        # NOTE(Cisco NX-OS 9.3+/10.x): a named checkpoint first; rollback restores it atomically.
        self.switch.send(f"checkpoint {CHECKPOINT}")
        self.switch.configure(with_defaults(cli_lines(candidate)))

    def confirm(self) -> None:
        self.switch.send("copy running-config startup-config")
        self.switch.send(f"no checkpoint {CHECKPOINT}")

    def rollback(self) -> None:
        output = self.switch.send(f"rollback running-config checkpoint {CHECKPOINT}", read_timeout=120)
        if "fail" in output.lower():
            raise CommandError(f"{self.switch.endpoint.name}: rollback failed: {output.strip()[-200:]}")


class Onyx(Platform):
    device_type = "mellanox_mlnxos"
    needs_enable = True
    lldp = ("textfsm", "show lldp remote")

    def apply(self, candidate: str) -> None:
        # NOTE(NVIDIA Onyx / MLNX-OS 3.10): no sessions; save the active configuration under a name
        # first and switch back to it to roll back.
        self.switch.configure([f"configuration write to {CHECKPOINT} no-switch"])
        self.switch.configure(cli_lines(candidate))

    def confirm(self) -> None:
        self.switch.configure(["configuration write"])

    def rollback(self) -> None:
        self.switch.configure([f"configuration switch-to {CHECKPOINT}"])


class Cumulus(Platform):
    device_type = "linux"
    show_running = "nv config show -o commands"

    def apply(self, candidate: str) -> None:
        # NOTE(NVIDIA Cumulus Linux 5.x NVUE): replace the pending revision with our commands, then
        # apply with --confirm so the switch reverts by itself if we never confirm. The rendered text is
        # never run as a script: each line must parse as one `nv set|unset` command, and is sent again
        # quoted word by word, so no value can become shell syntax.
        commands = nvue_commands(candidate)
        self.switch.shell("nv config detach")
        for line in command_lines(commands):
            self.switch.shell(line)
        self.switch.shell(f"nv config apply --confirm {CONFIRM_TIMEOUT.split(':')[1]}m -y")

    def confirm(self) -> None:
        self.switch.shell("nv config apply --confirm-yes -y")

    def rollback(self) -> None:
        self.switch.shell("nv config apply startup -y")


class Sonic(Platform):
    device_type = "linux"
    show_running = "show runningconfiguration all"

    def apply(self, candidate: str) -> None:
        # NOTE(SONiC 202205+): generic config updater checkpoints; `config load` merges our tables.
        json.loads(candidate)
        self.switch.shell(f"sudo config checkpoint {CHECKPOINT}")
        self.write_file(f"/tmp/{CHECKPOINT}.json", candidate)
        self.switch.shell(f"sudo config load -y /tmp/{CHECKPOINT}.json")

    def confirm(self) -> None:
        self.switch.shell("sudo config save -y")
        self.switch.shell(f"sudo config delete-checkpoint {CHECKPOINT}")

    def rollback(self) -> None:
        self.switch.shell(f"sudo config rollback {CHECKPOINT}")


class Linux(Platform):
    """A Linux-based switch configured by ifupdown2: /etc/network/interfaces, `ifreload`, `ifquery`."""

    device_type = "linux"
    lldp = ("lldpctl", "lldpctl -f json")

    @property
    def path(self) -> str:
        return str(self.switch.endpoint.options.get("config_path", "/etc/network/interfaces"))

    def running_config(self) -> str:
        return self.switch.shell(f"cat {shlex.quote(self.path)} 2>/dev/null || true") + "\n"

    def apply(self, candidate: str) -> None:
        config_lines(candidate)  # ifupdown2 reads lines too: nothing unprintable may hide one
        path = shlex.quote(self.path)
        self.switch.shell(f"cp -p {path} {path}.{CHECKPOINT} 2>/dev/null || : > {path}.{CHECKPOINT}")
        self.write_file(self.path + ".new", candidate)
        self.switch.shell(f"mv {path}.new {path}")
        self.switch.shell("ifreload -a")

    def verify(self) -> list[str]:
        try:
            self.switch.shell("ifquery --check -a")
        except CommandError as exc:
            return [str(exc)]
        return []

    def confirm(self) -> None:
        self.switch.shell(f"rm -f {shlex.quote(self.path)}.{CHECKPOINT}")

    def rollback(self) -> None:
        path = shlex.quote(self.path)
        self.switch.shell(f"mv {path}.{CHECKPOINT} {path}")
        self.switch.shell("ifreload -a")


PLATFORMS: dict[str, type[Platform]] = {
    "eos": Eos,
    "nxos": Nxos,
    "onyx": Onyx,
    "cumulus": Cumulus,
    "sonic": Sonic,
    "linux": Linux,
}
