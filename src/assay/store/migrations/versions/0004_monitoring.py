"""Monitoring: monitors, window results with revisions, alerts, notifications, deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _monitor_id() -> sa.Column[object]:
    return sa.Column("monitor_id", sa.Uuid(), sa.ForeignKey("monitors.id"), nullable=False,
                     index=True)


def upgrade() -> None:
    """Create the five monitoring tables."""
    op.create_table(
        "monitors",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("version_id", sa.Uuid(), sa.ForeignKey("product_versions.id"),
                  nullable=True, index=True),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("spec_fingerprint", sa.String(100), nullable=False),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_table(
        "monitor_windows",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _monitor_id(),
        _when("window_start"),
        _when("window_end"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _when("as_of"),
        sa.Column("data_fingerprint", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        _when("created_at"),
        sa.UniqueConstraint("monitor_id", "window_start", "window_end", "revision",
                            name="uq_monitor_window_revision"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _monitor_id(),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        _when("first_window_start"),
        _when("last_window_start"),
        _when("opened_at"),
        _when("updated_at"),
        _when("snoozed_until", nullable=True),
        _when("escalated_at", nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("notice", sa.String(20), nullable=True),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _monitor_id(),
        sa.Column("notifier", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("delivered_at", nullable=True),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("notification_id", sa.Uuid(), sa.ForeignKey("notifications.id"),
                  nullable=False, index=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _when("at"),
    )


def downgrade() -> None:
    """Drop the monitoring tables."""
    for table in ("deliveries", "notifications", "alerts", "monitor_windows", "monitors"):
        op.drop_table(table)
