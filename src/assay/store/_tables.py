"""The SQLAlchemy tables of the store: product → version → run → check result, the audit log,
the governance record (sign-offs, gate decisions, contingencies) and monitoring (monitors,
window results with their revisions, alerts, notifications and their delivery attempts).

Keys are UUIDs (``sqlalchemy.Uuid``: native on PostgreSQL, 32 hex characters on SQLite);
timestamps are timezone-aware and set per row in UTC. The Alembic migrations in
``assay/store/migrations`` create exactly these tables; a test compares the two.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AlertRow",
    "AuditEventRow",
    "AuditHeadRow",
    "Base",
    "CheckResultRow",
    "ContingencyRow",
    "DeliveryRow",
    "GateDecisionRow",
    "MonitorRow",
    "MonitorWindowRow",
    "NotificationRow",
    "ProductRow",
    "ProductVersionRow",
    "RunRow",
    "SignOffRow",
    "as_utc",
    "utc_now",
]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A timestamp read back from the database as UTC-aware (SQLite returns naive values)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class ProductRow(Base):
    """An AI product under assurance (the registry adds its descriptive fields later)."""

    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    fields: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")


class ProductVersionRow(Base):
    """One version of a product, with a reference to its artifact (an MLflow model URI...)."""

    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version", name="uq_product_version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    artifact_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    fields: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    state: Mapped[str] = mapped_column(String(40), default="proposed",
                                       server_default="proposed")


class RunRow(Base):
    """A stored Run: a few columns to query on, and the whole Run as its JSON text."""

    __tablename__ = "runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_versions.id"), nullable=True, index=True)
    plan_name: Mapped[str] = mapped_column(String(500))
    plan_fingerprint: Mapped[str] = mapped_column(String(100), index=True)
    data_fingerprint: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    assay_version: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    run_json: Mapped[str] = mapped_column(Text)


class CheckResultRow(Base):
    """One check of a stored Run, for queries across runs (the Run JSON stays the record)."""

    __tablename__ = "check_results"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id"), index=True)
    check_id: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)


class SignOffRow(Base):
    """A person's sign-off in one role on one gate of a product version (governance)."""

    __tablename__ = "sign_offs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product_versions.id"), index=True)
    gate: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class GateDecisionRow(Base):
    """A decision taken at a gate: approve, approve_with_contingencies, re_review, decline."""

    __tablename__ = "gate_decisions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product_versions.id"), index=True)
    gate: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ContingencyRow(Base):
    """A condition attached to an approval, with an owner and a due date, open until resolved."""

    __tablename__ = "contingencies"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("gate_decisions.id"), index=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product_versions.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class AuditEventRow(Base):
    """An append-only audit event, chained to the previous one by its hash."""

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The one row holding the newest event's seq and hash: a deleted last event shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class MonitorRow(Base):
    """A monitor: its spec (YAML as JSON), bound to a product version when it has one."""

    __tablename__ = "monitors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_versions.id"), nullable=True, index=True)
    spec_json: Mapped[str] = mapped_column(Text)
    spec_fingerprint: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class MonitorWindowRow(Base):
    """One revision of one window's result; a window gains a revision when its rows or known
    labels change (late labels), and never loses one."""

    __tablename__ = "monitor_windows"
    __table_args__ = (UniqueConstraint("monitor_id", "window_start", "window_end", "revision",
                                       name="uq_monitor_window_revision"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    monitor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitors.id"), index=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data_fingerprint: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class AlertRow(Base):
    """An alert: open → acknowledged → resolved, or snoozed until a date; escalated once."""

    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    monitor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitors.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text)
    details_json: Mapped[str] = mapped_column(Text)
    first_window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    notice: Mapped[str | None] = mapped_column(String(20), nullable=True)
    """A change not yet handed to the notifiers (``opened``, ``escalated``, ``reopened``)."""


class NotificationRow(Base):
    """A message owed to one notifier (the outbox): pending until delivered or given up."""

    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    monitor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitors.id"), index=True)
    notifier: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(Text)
    message_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)


class DeliveryRow(Base):
    """One attempt to deliver a notification: the delivery log."""

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id"),
                                                       index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
