"""What an audit produces: one outcome per device and layer, and the run's report."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime

from rackctl.errors import ValidationError
from rackctl.types import Finding, Layer

CLEAN, DRIFT, NOT_AUDITED = "clean", "drift", "not-audited"
EXIT_CLEAN, EXIT_DRIFT, EXIT_NOT_AUDITED = 0, 1, 2


@dataclass(frozen=True)
class Outcome:
    """One device on one layer: its findings, or why it could not be audited."""

    device: str
    layer: Layer
    audited: bool
    findings: tuple[Finding, ...] = ()
    message: str = ""

    @property
    def status(self) -> str:
        if not self.audited:
            return NOT_AUDITED
        return DRIFT if self.findings else CLEAN


@dataclass
class AuditReport:
    targets: str
    layers: tuple[Layer, ...]
    started_at: datetime
    finished_at: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    shard: str = ""
    run_id: int | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for o in self.outcomes for f in o.findings]

    @property
    def not_audited(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.audited]

    @property
    def devices(self) -> list[str]:
        return sorted({o.device for o in self.outcomes})

    @property
    def exit_code(self) -> int:
        """2 when anything could not be audited (the report is incomplete), else 1 on drift, else 0."""
        if self.not_audited:
            return EXIT_NOT_AUDITED
        return EXIT_DRIFT if self.findings else EXIT_CLEAN


@dataclass(frozen=True)
class Shard:
    """Slice i of n of the fleet (1-based), so several machines can audit one inventory.

    Devices are assigned by a stable hash of their rack (or their own name when unracked), so a
    rack's PDUs land in one shard and its feeds can be checked whole.
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValidationError(f"--shard '{text}': expected i/n, e.g. 2/4") from None
        if count < 1 or not 1 <= index <= count:
            raise ValidationError(f"--shard '{text}': i must be between 1 and n")
        return cls(index, count)

    def holds(self, key: str) -> bool:
        return zlib.crc32(key.encode()) % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
