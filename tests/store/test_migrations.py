from __future__ import annotations

import sqlalchemy as sa

from assay.store import Store, head_revision
from assay.store._migrate import MIGRATIONS
from assay.store._tables import Base

TABLES = {"products", "product_versions", "runs", "check_results", "audit_events", "audit_head",
          "sign_offs", "gate_decisions", "contingencies", "monitors", "monitor_windows",
          "alerts", "notifications", "deliveries"}
TABLES_0003 = TABLES - {"monitors", "monitor_windows", "alerts", "notifications", "deliveries"}
TABLES_0002 = TABLES_0003 - {"sign_offs", "gate_decisions", "contingencies"}


def _tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_then_downgrade_one_step(database_url: str) -> None:
    store = Store.open(database_url, check_schema=False)
    try:
        assert store.current_revision() is None and _tables(store) == set()
        store.upgrade()
        assert store.current_revision() == head_revision() == "0004"
        assert _tables(store) == TABLES
        store.downgrade("-1")
        assert store.current_revision() == "0003" and _tables(store) == TABLES_0003
        store.downgrade("-1")
        assert store.current_revision() == "0002" and _tables(store) == TABLES_0002
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("product_versions")}
        assert "state" not in columns and "fields" not in columns
        store.downgrade("-1")
        assert store.current_revision() == "0001" and _tables(store) == TABLES_0002
        store.downgrade("-1")
        assert store.current_revision() is None and _tables(store) == set()
        store.upgrade()
        assert _tables(store) == TABLES
    finally:
        store.close()


def test_migrations_create_the_tables_of_the_models(database_url: str) -> None:
    store = Store.open(database_url, check_schema=False)
    store.upgrade()
    try:
        inspector = sa.inspect(store.engine)
        for table in Base.metadata.sorted_tables:
            migrated = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
            modelled = {c.name: c.nullable for c in table.columns}
            assert migrated == modelled, table.name
    finally:
        store.close()


def test_the_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS / "versions" / "0002_audit_append_only.py").is_file()
    assert (MIGRATIONS / "versions" / "0003_governance.py").is_file()
    assert (MIGRATIONS / "versions" / "0004_monitoring.py").is_file()
