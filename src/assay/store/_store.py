"""The ``Store``: runs, products and versions in one SQL database, every write audited."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from assay.checks import Run
from assay.errors import InputError
from assay.store import _migrate
from assay.store._audit import (
    AuditEvent,
    AuditVerification,
    append_event,
    read_events,
    verify_chain,
)
from assay.store._tables import (
    CheckResultRow,
    ProductRow,
    ProductVersionRow,
    RunRow,
    as_utc,
    utc_now,
)

__all__ = ["DEFAULT_URL", "Product", "ProductVersion", "Store", "StoredRun", "resolve_url"]

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///./.assay/assay.db"


@dataclass(frozen=True)
class Product:
    """A registered product."""

    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ProductVersion:
    """A version of a product and its artifact reference."""

    id: uuid.UUID
    product_id: uuid.UUID
    version: str
    artifact_uri: str | None
    created_at: datetime


@dataclass(frozen=True)
class StoredRun:
    """The queryable summary of a stored Run (load the whole Run with ``Store.load_run``)."""

    id: uuid.UUID
    version_id: uuid.UUID | None
    plan_name: str
    plan_fingerprint: str
    data_fingerprint: str
    status: str
    seed: int
    assay_version: str
    started_at: datetime | None
    stored_at: datetime


def resolve_url(url: str | None = None) -> str:
    """The database URL: ``url``, else ``ASSAY_DATABASE_URL``, else ``./.assay/assay.db``."""
    return url or os.environ.get("ASSAY_DATABASE_URL") or DEFAULT_URL


def _engine(url: str) -> Engine:
    """An engine for ``url``; a malformed URL or unknown driver is an InputError."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                              ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise InputError(f"database URL {url!r} is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def _sqlite_foreign_keys(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """Runs, products and versions in a SQL database, every write with an audit event.

    Use :meth:`open` rather than the constructor.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> store = Store.open(f"sqlite:///{folder}/assay.db")
    >>> store.create_product("sepsis-alert", actor="ana").name
    'sepsis-alert'
    >>> store.verify_audit().ok
    True
    >>> store.close()
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> Store:
        """Open the store at ``url`` (else ``ASSAY_DATABASE_URL``, else ``./.assay/assay.db``).

        An SQLite database is upgraded to the newest schema on first use; any other database
        must already be at it (``assay db upgrade``), or an InputError says so.
        """
        resolved = resolve_url(url)
        store = cls(_engine(resolved))
        if not check_schema:
            return store
        head = _migrate.head_revision()
        try:
            current = store.current_revision()
            if current == head:
                return store
            if store.engine.dialect.name == "sqlite":
                log.info("upgrading the embedded store %s from %s to %s", store.safe_url,
                         current, head)
                store.upgrade()
                return store
        except BaseException:
            store.close()
            raise
        store.close()
        at = current or "none (empty)"
        raise InputError(f"database {store.safe_url} is at schema revision {at}, "
                         f"this Assay needs {head}: run 'assay db upgrade'")

    @property
    def safe_url(self) -> str:
        """The database URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def current_revision(self) -> str | None:
        """The schema revision of the database (None when empty)."""
        try:
            return _migrate.current_revision(self.engine)
        except OperationalError as exc:
            raise InputError(f"cannot connect to database {self.safe_url}: "
                             f"{str(exc.orig).strip()}") from exc

    def upgrade(self, revision: str = "head") -> None:
        """Apply the shipped migrations up to ``revision``."""
        self.current_revision()  # a clear error when the server is unreachable
        _migrate.upgrade(self.engine, revision)

    def downgrade(self, revision: str) -> None:
        """Revert the migrations down to ``revision`` (``-1`` for one step, ``base``)."""
        self.current_revision()
        _migrate.downgrade(self.engine, revision)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def create_product(self, name: str, *, actor: str) -> Product:
        """Register a product; a name already taken is an InputError."""
        name = name.strip()
        if not name:
            raise InputError("product name must not be empty")
        try:
            with self._transaction() as session:
                row = ProductRow(name=name, created_at=utc_now())
                session.add(row)
                session.flush()
                append_event(session, actor=actor, action="product.created",
                             entity_type="product", entity_id=str(row.id),
                             payload={"name": name})
                product = Product(row.id, row.name, as_utc(row.created_at))
        except IntegrityError as exc:
            raise InputError(f"product name {name!r} is already registered") from exc
        return product

    def product(self, name: str) -> Product:
        """The product called ``name``; an unknown name is an InputError."""
        with self._sessions() as session:
            row = session.execute(select(ProductRow).where(ProductRow.name == name)).scalar()
            if row is None:
                raise InputError(f"product {name!r} is not registered")
            return Product(row.id, row.name, as_utc(row.created_at))

    def create_version(self, product: str | uuid.UUID, version: str, *,
                       artifact_uri: str | None = None, actor: str) -> ProductVersion:
        """Register a version of ``product`` (its name or id); a repeated version is refused."""
        product_id = product if isinstance(product, uuid.UUID) else self.product(product).id
        try:
            with self._transaction() as session:
                if session.get(ProductRow, product_id) is None:
                    raise InputError(f"product id {product_id} is not registered")
                row = ProductVersionRow(product_id=product_id, version=version,
                                        artifact_uri=artifact_uri, created_at=utc_now())
                session.add(row)
                session.flush()
                append_event(session, actor=actor, action="version.created",
                             entity_type="product_version", entity_id=str(row.id),
                             payload={"product_id": str(product_id), "version": version,
                                      "artifact_uri": artifact_uri})
                created = ProductVersion(row.id, product_id, version, artifact_uri,
                                         as_utc(row.created_at))
        except IntegrityError as exc:
            raise InputError(f"version {version!r} of product {product} is already "
                             "registered") from exc
        return created

    def version(self, product: str | uuid.UUID, version: str) -> ProductVersion:
        """A registered version of ``product`` (its name or id); unknown is an InputError."""
        product_id = product if isinstance(product, uuid.UUID) else self.product(product).id
        with self._sessions() as session:
            row = session.execute(select(ProductVersionRow).where(
                ProductVersionRow.product_id == product_id,
                ProductVersionRow.version == version)).scalar()
            if row is None:
                raise InputError(f"product {product} has no version {version!r}")
            return ProductVersion(row.id, product_id, row.version, row.artifact_uri,
                                  as_utc(row.created_at))

    def save_run(self, run: Run, *, version_id: uuid.UUID | None = None,
                 actor: str = "assay") -> uuid.UUID:
        """Store ``run`` whole (its JSON), its check results and a ``run.stored`` audit event.

        All in one transaction: on any error nothing is stored.
        """
        with self._transaction() as session:
            if version_id is not None and session.get(ProductVersionRow, version_id) is None:
                raise InputError(f"version_id {version_id} is not a registered product version")
            row = RunRow(version_id=version_id, plan_name=run.plan.name,
                         plan_fingerprint=run.plan_fingerprint,
                         data_fingerprint=run.data.fingerprint, status=run.status,
                         seed=run.seed, assay_version=run.assay_version,
                         started_at=run.started_at, stored_at=utc_now(),
                         run_json=run.to_json())
            session.add(row)
            session.flush()
            session.add_all(CheckResultRow(run_id=row.id, check_id=r.id, kind=r.kind,
                                           status=r.status, reason=r.reason)
                            for r in run.results)
            append_event(session, actor=actor, action="run.stored", entity_type="run",
                         entity_id=str(row.id),
                         payload={"plan_fingerprint": run.plan_fingerprint,
                                  "data_fingerprint": run.data.fingerprint,
                                  "status": run.status,
                                  "version_id": None if version_id is None else str(version_id)})
            return row.id

    def load_run(self, run_id: uuid.UUID | str) -> Run:
        """The stored Run, equal to the one saved (it re-renders to the same report)."""
        try:
            key = run_id if isinstance(run_id, uuid.UUID) else uuid.UUID(str(run_id))
        except ValueError as exc:
            raise InputError(f"run id {run_id!r} is not a UUID") from exc
        with self._sessions() as session:
            row = session.get(RunRow, key)
            if row is None:
                raise InputError(f"run id {key} is not in the store")
            return Run.from_json(row.run_json)

    def list_runs(self, *, version_id: uuid.UUID | None = None,
                  limit: int = 100) -> list[StoredRun]:
        """Summaries of stored runs, newest first (of one version when ``version_id`` given)."""
        query = select(RunRow).order_by(RunRow.stored_at.desc()).limit(limit)
        if version_id is not None:
            query = query.where(RunRow.version_id == version_id)
        with self._sessions() as session:
            return [StoredRun(id=r.id, version_id=r.version_id, plan_name=r.plan_name,
                              plan_fingerprint=r.plan_fingerprint,
                              data_fingerprint=r.data_fingerprint, status=r.status, seed=r.seed,
                              assay_version=r.assay_version,
                              started_at=None if r.started_at is None else as_utc(r.started_at),
                              stored_at=as_utc(r.stored_at))
                    for r in session.execute(query).scalars()]

    def audit_events(self) -> list[AuditEvent]:
        """Every audit event, in seq order."""
        with self._sessions() as session:
            return read_events(session)

    def verify_audit(self) -> AuditVerification:
        """Recompute the audit hash chain; report the first edited, missing or moved event."""
        with self._sessions() as session:
            return verify_chain(session)
