"""Alembic environment: run the migrations on the connection or URL the store hands over.

Alembic executes this file itself; :mod:`assay.store._migrate` builds the configuration in code,
so users need no ``alembic.ini``. Imported any other way (doctest collection), it does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from assay.store._tables import Base


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run the migrations online, on the given connection or a fresh engine of the URL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as fresh:
            _migrate(fresh)
    finally:
        engine.dispose()


if hasattr(context, "config"):
    run()
