"""Governance: registry fields and lifecycle state, sign-offs, gate decisions, contingencies.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Products and versions gain ``fields`` (canonical JSON text of string fields by key) and
versions a lifecycle ``state``; three tables hold the governance record.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _version_id() -> sa.Column[object]:
    return sa.Column("version_id", sa.Uuid(), sa.ForeignKey("product_versions.id"),
                     nullable=False, index=True)


def upgrade() -> None:
    """Add the field and state columns and the three governance tables."""
    op.add_column("products", sa.Column("fields", sa.Text(), nullable=False,
                                        server_default="{}"))
    op.add_column("product_versions", sa.Column("fields", sa.Text(), nullable=False,
                                                server_default="{}"))
    op.add_column("product_versions", sa.Column("state", sa.String(40), nullable=False,
                                                server_default="proposed"))
    op.create_table(
        "sign_offs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _version_id(),
        sa.Column("gate", sa.String(40), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        _when("signed_at"),
    )
    op.create_table(
        "gate_decisions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _version_id(),
        sa.Column("gate", sa.String(40), nullable=False),
        sa.Column("decision", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(40), nullable=False),
        sa.Column("to_state", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _when("decided_at"),
    )
    op.create_table(
        "contingencies",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("decision_id", sa.Uuid(), sa.ForeignKey("gate_decisions.id"), nullable=False,
                  index=True),
        _version_id(),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    """Drop the governance tables and columns (SQLite 3.35+ drops columns natively)."""
    for table in ("contingencies", "gate_decisions", "sign_offs"):
        op.drop_table(table)
    op.drop_column("product_versions", "state")
    op.drop_column("product_versions", "fields")
    op.drop_column("products", "fields")
