"""Audit events become append-only: the database refuses to update or delete them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

On PostgreSQL a trigger function raises on any UPDATE or DELETE of ``audit_events`` and on a
DELETE of ``audit_head``, for every role the service connects as; only a superuser who turns
triggers off (``session_replication_role = replica``) or drops them can still edit the log, and
``assay audit verify`` then finds the edit. On SQLite the same rules are ``RAISE(ABORT)``
triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit events are append-only"
RULES = (("audit_events", "UPDATE"), ("audit_events", "DELETE"), ("audit_head", "DELETE"))


def upgrade() -> None:
    """Create the triggers that refuse edits and deletions of the audit log."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION assay_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        for table, action in RULES:
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION assay_audit_append_only()"
            )
        return
    for table, action in RULES:
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    """Drop the triggers (and the PostgreSQL function), those an administrator left."""
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, action in RULES:
        on = f" ON {table}" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()}{on}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS assay_audit_append_only()")
