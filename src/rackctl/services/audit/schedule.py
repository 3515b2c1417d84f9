"""Scheduled audits: a systemd service and timer (and the equivalent cron line) for `rackctl audit`."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from rackctl.errors import ValidationError
from rackctl.secrets import CREDENTIAL_NAME

_UNITS = {"m": 1, "min": 1, "h": 60, "d": 1440}


@dataclass(frozen=True)
class Interval:
    """An audit period that divides an hour or a day, so the timer and cron fire at the same times."""

    minutes: int

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = re.fullmatch(r"\s*(\d+)\s*(m|min|h|d)\s*", text.lower())
        if not match or int(match.group(1)) == 0:
            raise ValidationError(f"--every '{text}': expected a period such as 15m, 1h, 6h or 1d")
        minutes = int(match.group(1)) * _UNITS[match.group(2)]
        if not (minutes < 60 and 60 % minutes == 0) and not (minutes % 60 == 0 and 1440 % minutes == 0):
            raise ValidationError(
                f"--every '{text}': the period must divide an hour or a day",
                hint="e.g. 5m, 10m, 15m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h, 1d",
            )
        return cls(minutes)

    def on_calendar(self) -> str:
        if self.minutes < 60:
            return f"*-*-* *:00/{self.minutes}:00"
        hours = self.minutes // 60
        return "*-*-* *:00:00" if hours == 1 else f"*-*-* 00/{hours}:00:00"

    def cron(self) -> str:
        if self.minutes < 60:
            return f"*/{self.minutes} * * * *" if self.minutes > 1 else "* * * * *"
        hours = self.minutes // 60
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *" if hours < 24 else "0 0 * * *"

    def __str__(self) -> str:
        return f"{self.minutes}m" if self.minutes < 60 else f"{self.minutes // 60}h"


def rackctl_command() -> list[str]:
    """How the service starts rackctl: the installed entry point, else this interpreter's module."""
    found = shutil.which("rackctl")
    return [found] if found else [sys.executable, "-m", "rackctl"]


def exec_line(argv: list[str]) -> str:
    # systemd expands % specifiers in ExecStart: a literal % must be doubled.
    return " ".join(shlex.quote(a) for a in argv).replace("%", "%%")


_CREDENTIAL = re.compile(CREDENTIAL_NAME)
_CREDENTIAL_PATH = re.compile(r"/[^\s:%]*", re.ASCII)


def credential(text: str) -> tuple[str, str]:
    """`NAME` or `NAME=/path` as (name, path); the path may be empty (systemd then looks in its credstores)."""
    name, _, path = text.partition("=")
    if not _CREDENTIAL.fullmatch(name) or (path and not _CREDENTIAL_PATH.fullmatch(path)):
        raise ValidationError(
            f"--credential '{text}': expected NAME or NAME=/absolute/path (no spaces, ':' or '%')",
            hint="NAME is what inventory references call cred:NAME",
        )
    return name, path


def credential_lines(credentials: tuple[tuple[str, str], ...]) -> list[str]:
    """LoadCredential= lines (with why) for a unit whose inventory references secrets as cred:NAME."""
    if not credentials:
        return ["# Secrets: reference them as cred:NAME and load them here, e.g. LoadCredential=bmc-password"]
    lines = ["# Secrets as systemd credentials: inventory references cred:NAME read $CREDENTIALS_DIRECTORY/NAME."]
    return lines + [f"LoadCredential={name}:{path}" if path else f"LoadCredential={name}" for name, path in
                    credentials]  # fmt: skip


@dataclass(frozen=True)
class Schedule:
    name: str
    interval: Interval
    audit_args: list[str]
    credentials: tuple[tuple[str, str], ...] = ()  # (name, path): LoadCredential= lines for cred: references

    def credential_lines(self) -> list[str]:
        return credential_lines(self.credentials)

    def argv(self) -> list[str]:
        return [*rackctl_command(), "audit", *self.audit_args]

    def service(self) -> str:
        return "\n".join([
            "[Unit]",
            f"Description=rackctl drift audit ({' '.join(self.audit_args)})",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            "# Settings (RACKCTL_DB_URL, RACKCTL_SSH_KEY ...) live in this file; secrets do not.",
            "EnvironmentFile=-/etc/rackctl/audit.env",
            *self.credential_lines(),
            f"ExecStart={exec_line(self.argv())}",
            "# Exit 1 means drift was found: a result, not a failure of the service. 2 (could not audit) fails it.",
            "SuccessExitStatus=1",
            "",
        ])  # fmt: skip

    def timer(self) -> str:
        return "\n".join([
            "[Unit]",
            f"Description=Run the rackctl drift audit every {self.interval}",
            "",
            "[Timer]",
            f"OnCalendar={self.interval.on_calendar()}",
            "Persistent=true",
            "RandomizedDelaySec=30",
            f"Unit={self.name}.service",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ])  # fmt: skip

    def cron_line(self) -> str:
        return f"{self.interval.cron()} {' '.join(shlex.quote(a) for a in self.argv())}"

    def write(self, folder: Path) -> list[Path]:
        """Write NAME.service and NAME.timer into `folder`; returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"{self.name}.service", folder / f"{self.name}.timer"]
        for path, text in zip(paths, (self.service(), self.timer()), strict=True):
            path.write_text(text)
        return paths
