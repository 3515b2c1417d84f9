"""Drift audits: each run, each device's outcome per layer, and findings with their history.

Devices are kept by name, not by foreign key: the history of a device that was renamed or removed
stays readable. A finding is one row from the run that first saw it until the run that no longer
did (resolved); every run that saw it adds a sighting, so any two runs can be compared.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rackctl.inventory.db import Base, StrEnumType, UtcDateTime, utcnow
from rackctl.types import Layer, Severity


class AuditRun(Base):
    __tablename__ = "audit_runs"
    __changelog__ = False  # a record of what happened, not inventory

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    targets: Mapped[str] = mapped_column(String(1024))
    layers: Mapped[list[str]] = mapped_column(JSON, default=list)
    shard: Mapped[str] = mapped_column(String(16), default="")
    devices: Mapped[int] = mapped_column(default=0)
    findings: Mapped[int] = mapped_column(default=0)
    not_audited: Mapped[int] = mapped_column(default=0)

    results: Mapped[list[AuditResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="AuditResult.id"
    )


class AuditResult(Base):
    """One device on one layer in one run: clean, drift, or not audited (and why)."""

    __tablename__ = "audit_results"
    __changelog__ = False  # a record of what happened, not inventory
    __table_args__ = (UniqueConstraint("run_id", "device", "layer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    layer: Mapped[Layer] = mapped_column(StrEnumType(Layer))
    outcome: Mapped[str] = mapped_column(String(16))  # clean, drift, not-audited
    message: Mapped[str] = mapped_column(String(1024), default="")

    run: Mapped[AuditRun] = relationship(back_populates="results")


class AuditFinding(Base):
    """A drift finding from first seen to resolved."""

    __tablename__ = "audit_findings"
    __changelog__ = False  # a record of what happened, not inventory
    __table_args__ = (Index("ix_audit_findings_identity", "device", "layer", "check", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device: Mapped[str] = mapped_column(String(64))
    layer: Mapped[Layer] = mapped_column(StrEnumType(Layer))
    check: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), default="")
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    expected: Mapped[str] = mapped_column(String(512), default="")
    observed: Mapped[str] = mapped_column(String(512), default="")
    hint: Mapped[str] = mapped_column(String(1024), default="")
    first_seen_run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id"))
    last_seen_run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id"))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_run_id: Mapped[int | None] = mapped_column(ForeignKey("audit_runs.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AuditSighting(Base):
    """A finding as one run saw it."""

    __tablename__ = "audit_sightings"
    __changelog__ = False  # a record of what happened, not inventory

    run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id", ondelete="CASCADE"), primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("audit_findings.id", ondelete="CASCADE"), primary_key=True)
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity))
    expected: Mapped[str] = mapped_column(String(512), default="")
    observed: Mapped[str] = mapped_column(String(512), default="")

    finding: Mapped[AuditFinding] = relationship()
