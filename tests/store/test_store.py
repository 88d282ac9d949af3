from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC

import pytest
import sqlalchemy as sa

from assay.checks import Run
from assay.errors import InputError
from assay.store import Store, head_revision
from assay.store._store import DEFAULT_URL, resolve_url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    migrator = Store.open(database_url, check_schema=False)
    migrator.upgrade()
    migrator.close()
    opened = Store.open(database_url)
    yield opened
    opened.close()


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_run_round_trips_byte_for_byte(store: Store, small_run: Run) -> None:
    product = store.create_product("sepsis-alert", actor="ana")
    version = store.create_version(product.name, "1.0", artifact_uri="models:/sepsis/1",
                                   actor="ana")
    run_id = store.save_run(small_run, version_id=version.id, actor="ana")
    loaded = store.load_run(run_id)
    assert loaded == small_run
    assert loaded.to_json() == small_run.to_json()
    assert loaded.to_html() == small_run.to_html()
    [summary] = store.list_runs(version_id=version.id)
    assert summary.id == run_id and summary.status == small_run.status
    assert summary.stored_at.tzinfo == UTC and product.created_at.tzinfo == UTC
    assert _count(store, "check_results") == len(small_run.results) == 2
    assert [e.action for e in store.audit_events()] == ["product.created", "version.created",
                                                         "run.stored"]


def test_duplicate_product_name_is_refused_and_nothing_is_stored(store: Store) -> None:
    store.create_product("sepsis-alert", actor="ana")
    with pytest.raises(InputError, match="product name 'sepsis-alert' is already registered"):
        store.create_product("sepsis-alert", actor="ben")
    assert _count(store, "products") == 1 and _count(store, "audit_events") == 1
    assert store.verify_audit().ok


def test_unknown_ids_name_the_field(store: Store, small_run: Run) -> None:
    missing = uuid.uuid4()
    with pytest.raises(InputError, match=f"run id {missing} is not in the store"):
        store.load_run(missing)
    with pytest.raises(InputError, match="is not a UUID"):
        store.load_run("not-a-uuid")
    with pytest.raises(InputError, match=f"version_id {missing} is not a registered"):
        store.save_run(small_run, version_id=missing)
    with pytest.raises(InputError, match="product 'nobody' is not registered"):
        store.create_version("nobody", "1.0", actor="ana")
    assert _count(store, "runs") == 0 and _count(store, "audit_events") == 0


def test_duplicate_version_is_refused(store: Store) -> None:
    store.create_version(store.create_product("p", actor="a").id, "1.0", actor="a")
    with pytest.raises(InputError, match=r"version '1\.0' of product"):
        store.create_version("p", "1.0", actor="a")
    assert _count(store, "product_versions") == 1


def test_non_sqlite_store_behind_head_is_refused(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        store = Store.open(database_url)  # the embedded store upgrades itself
        assert store.current_revision() == head_revision()
        store.close()
        return
    with pytest.raises(InputError, match="run 'assay db upgrade'"):
        Store.open(database_url)


def test_bad_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="database URL 'nonsense://' is not usable"):
        Store.open("nonsense://")


def test_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_DATABASE_URL", raising=False)
    assert resolve_url() == DEFAULT_URL
    monkeypatch.setenv("ASSAY_DATABASE_URL", "sqlite:///x.db")
    assert resolve_url() == "sqlite:///x.db" and resolve_url("sqlite:///y.db") == "sqlite:///y.db"
