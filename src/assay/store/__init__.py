"""The store: runs, products and versions in SQL, with a tamper-evident audit chain.

Needs the ``store`` extra (SQLAlchemy, Alembic, psycopg). SQLite at ``./.assay/assay.db`` by
default; PostgreSQL (or another URL) through ``ASSAY_DATABASE_URL`` or ``Store.open(url)``.
"""

from __future__ import annotations

from assay.errors import MissingExtraError as _MissingExtraError

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by the install tests
    package = "alembic" if exc.name == "alembic" else "sqlalchemy"
    raise _MissingExtraError("store", package) from exc

from assay.store._audit import AuditEvent, AuditVerification, canonical_json, event_hash
from assay.store._migrate import head_revision
from assay.store._store import (
    DEFAULT_URL,
    Product,
    ProductVersion,
    Store,
    StoredRun,
    resolve_url,
)

__all__ = [
    "DEFAULT_URL",
    "AuditEvent",
    "AuditVerification",
    "Product",
    "ProductVersion",
    "Store",
    "StoredRun",
    "canonical_json",
    "event_hash",
    "head_revision",
    "resolve_url",
]
