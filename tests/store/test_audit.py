"""The audit chain detects every single edit, deletion or swap of its rows made in SQL."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from assay.checks import Run
from assay.cli._app import app
from assay.store import Store, canonical_json
from assay.store._tables import AuditEventRow, AuditHeadRow

runner = CliRunner()
EVENTS = AuditEventRow.__table__
HEAD = AuditHeadRow.__table__
EDITABLE = ("seq", "at", "actor", "action", "entity_type", "entity_id", "payload", "prev_hash",
            "hash")


@pytest.fixture
def audited(database_url: str, small_run: Run) -> Iterator[Store]:
    """A store with 12 audit events: products, versions and runs."""
    migrator = Store.open(database_url, check_schema=False)
    migrator.upgrade()
    migrator.close()
    store = Store.open(database_url)
    for number in range(3):
        product = store.create_product(f"product-{number}", actor="ana")
        version = store.create_version(product.id, "1.0", actor="ben")
        store.create_version(product.id, "1.1", artifact_uri=f"models:/p{number}/2", actor="ben")
        store.save_run(small_run, version_id=version.id, actor="cleo")
    yield store
    store.close()


def test_an_untouched_chain_verifies(audited: Store) -> None:
    verification = audited.verify_audit()
    assert verification.ok and verification.n_events == 12
    assert verification.first_broken_seq is None and verification.reason is None
    events = audited.audit_events()
    assert [e.seq for e in events] == list(range(1, 13))
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))


def _edit(connection: sa.Connection, row: dict[str, Any], column: str,
          rng: random.Random) -> None:
    value = row[column]
    if column == "seq":
        new: Any = 1000 + rng.randrange(1000)
    elif column == "at":
        new = value + timedelta(microseconds=rng.choice([-1, 1]) * rng.randrange(1, 10**7))
    elif column == "payload":
        new = rng.choice([canonical_json({"name": "mallory"}), value.replace(":", ": ", 1),
                          value[:-1], canonical_json({**_loads(value), "edited": True})])
    elif column in ("prev_hash", "hash"):
        new = f"{rng.getrandbits(256):064x}"
    else:
        new = value + rng.choice(["x", " ", "."])
    assert new != value
    connection.execute(EVENTS.update().where(EVENTS.c.seq == row["seq"]).values({column: new}))


def _loads(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _as_administrator(connection: sa.Connection) -> None:
    """Turn off the append-only triggers in this transaction, as only an administrator can:
    a PostgreSQL superuser's replica mode, or dropping the triggers of a SQLite file."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        return
    for name in ("audit_events_no_update", "audit_events_no_delete", "audit_head_no_delete"):
        connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


def _tamper(store: Store, rng: random.Random, n_events: int) -> tuple[str, int]:
    """One random edit, deletion or swap done in SQL; returns it and the first broken seq."""
    kind = rng.choice(["edit", "delete", "swap"])
    with store.engine.begin() as connection:
        _as_administrator(connection)
        rows = {r["seq"]: dict(r) for r in connection.execute(sa.select(EVENTS)).mappings()}
        if kind == "edit":
            seq, column = rng.randint(1, n_events), rng.choice(EDITABLE)
            _edit(connection, rows[seq], column, rng)
            return f"edit {column} of {seq}", seq
        if kind == "delete":
            seq = rng.randint(1, n_events)
            connection.execute(EVENTS.delete().where(EVENTS.c.seq == seq))
            return f"delete {seq}", seq
        first, second = sorted(rng.sample(range(1, n_events + 1), 2))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == first).values(seq=-1))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == second).values(seq=first))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == -1).values(seq=second))
        return f"swap {first} and {second}", first


def test_every_random_tampering_is_found_at_its_first_broken_event(
        audited: Store, database_url: str) -> None:
    """200 seeded edits, deletions and swaps: the API and `assay audit verify` both name
    the first broken event every time."""
    rng = random.Random(20261129)
    with audited.engine.connect() as connection:
        snapshot = [dict(r) for r in connection.execute(sa.select(EVENTS)).mappings()]
    kinds: set[str] = set()
    for _ in range(200):
        done, expected = _tamper(audited, rng, len(snapshot))
        kinds.add(done.split()[0])
        verification = audited.verify_audit()
        assert not verification.ok, done
        assert verification.first_broken_seq == expected, (done, verification)
        assert verification.reason, done
        verified = runner.invoke(app, ["audit", "verify", "--url", database_url])
        assert verified.exit_code == 1, (done, verified.output)
        assert f"event {expected}" in verified.output, (done, verified.output)
        with audited.engine.begin() as connection:
            _as_administrator(connection)
            connection.execute(EVENTS.delete())
            connection.execute(EVENTS.insert(), snapshot)
        assert audited.verify_audit().ok
    assert kinds == {"edit", "delete", "swap"}


def test_the_database_refuses_to_edit_or_delete_audit_rows(audited: Store) -> None:
    for statement in (EVENTS.update().where(EVENTS.c.seq == 3).values(actor="mallory"),
                      EVENTS.delete().where(EVENTS.c.seq == 3), HEAD.delete()):
        with pytest.raises(sa.exc.DatabaseError, match="audit events are append-only"):
            with audited.engine.begin() as connection:
                connection.execute(statement)
    assert audited.verify_audit().ok
    audited.create_product("after-the-attempts", actor="ana")  # appending still works
    assert audited.verify_audit().n_events == 13


def test_a_missing_head_record_is_reported(audited: Store) -> None:
    with audited.engine.begin() as connection:
        _as_administrator(connection)
        connection.execute(HEAD.delete())
    verification = audited.verify_audit()
    assert not verification.ok and "head record" in (verification.reason or "")
