"""``assay db`` and ``assay audit verify`` exit codes, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from assay.cli._app import app
from assay.store import Store
from assay.store._tables import AuditEventRow
from tests.store.test_audit import _as_administrator

runner = CliRunner()


def test_db_upgrade_downgrade_and_audit_verify(database_url: str) -> None:
    upgraded = runner.invoke(app, ["db", "upgrade", "--url", database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "none" not in upgraded.output and "→ 0004" in upgraded.output
    store = Store.open(database_url)
    store.create_product("sepsis-alert", actor="ana")
    store.create_product("deterioration", actor="ana")
    intact = runner.invoke(app, ["audit", "verify", "--url", database_url])
    assert intact.exit_code == 0 and "intact: 2 events" in intact.output
    events = AuditEventRow.__table__
    with store.engine.begin() as connection:
        _as_administrator(connection)
        connection.execute(events.update().where(events.c.seq == 2).values(actor="mallory"))
    store.close()
    broken = runner.invoke(app, ["audit", "verify", "--url", database_url])
    assert broken.exit_code == 1
    assert "audit chain broken: event 2:" in broken.output and "edited" in broken.output
    down = runner.invoke(app, ["db", "downgrade", "--to", "base", "--url", database_url])
    assert down.exit_code == 0, down.output
    engine = sa.create_engine(database_url)
    assert "audit_events" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_bad_url_exits_2_with_a_message() -> None:
    result = runner.invoke(app, ["db", "upgrade", "--url", "nonsense://"])
    assert result.exit_code == 2
    assert "database URL 'nonsense://' is not usable" in result.output


def test_unreachable_server_exits_2() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 2 and "cannot connect to database" in result.output


def test_bad_downgrade_target_exits_2(database_url: str) -> None:
    runner.invoke(app, ["db", "upgrade", "--url", database_url])
    result = runner.invoke(app, ["db", "downgrade", "--to", "9999", "--url", database_url])
    assert result.exit_code == 2 and "--to '9999'" in result.output
