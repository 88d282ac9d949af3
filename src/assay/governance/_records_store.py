"""The registry's records of products and versions: fields by key and lifecycle state.

Every write happens in one transaction with its hash-chained audit event(s); a field change
records the old and the new value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assay.errors import InputError
from assay.governance._lifecycle import RISK_TIERS, STATES, RiskTier, State
from assay.governance._records import check_field_values
from assay.store import Product, Store, canonical_json
from assay.store._audit import append_event
from assay.store._tables import ProductRow, ProductVersionRow, as_utc, utc_now

__all__ = ["RegistryRecords", "as_state"]


class RegistryRecords:
    """Products and versions with their fields and states (the base of ``Registry``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sessions = sessionmaker(store.engine, expire_on_commit=False)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def register_product(self, name: str, *, actor: str, **fields: str) -> Product:
        """Register a product with its fields; a taken name or a bad field is an InputError."""
        name = name.strip()
        if not name:
            raise InputError("product name must not be empty")
        values = {k: v for k, v in check_field_values(fields).items() if v is not None}
        try:
            with self._transaction() as session:
                row = ProductRow(name=name, created_at=utc_now(), fields=canonical_json(values))
                session.add(row)
                session.flush()
                append_event(session, actor=actor, action="product.created",
                             entity_type="product", entity_id=str(row.id),
                             payload={"name": name, "fields": values})
                product = Product(row.id, row.name, as_utc(row.created_at))
        except IntegrityError as exc:
            raise InputError(f"product name {name!r} is already registered") from exc
        return product

    def add_version(self, product: str, version: str, *, actor: str,
                    artifact_uri: str | None = None, **fields: str) -> str:
        """Register ``version`` of ``product`` (state ``proposed``); returns the version."""
        version = version.strip()
        if not version:
            raise InputError("version must not be empty")
        values = {k: v for k, v in check_field_values(fields).items() if v is not None}
        try:
            with self._transaction() as session:
                parent = self._product_row(session, product)
                row = ProductVersionRow(product_id=parent.id, version=version,
                                        artifact_uri=artifact_uri, created_at=utc_now(),
                                        fields=canonical_json(values), state="proposed")
                session.add(row)
                session.flush()
                append_event(session, actor=actor, action="version.created",
                             entity_type="product_version", entity_id=str(row.id),
                             payload={"product_id": str(parent.id), "version": version,
                                      "artifact_uri": artifact_uri, "fields": values})
        except IntegrityError as exc:
            raise InputError(f"version {version!r} of product {product!r} is already "
                             "registered") from exc
        return version

    def set_fields(self, product: str, version: str | None = None, *, actor: str,
                   **fields: str) -> dict[str, tuple[str | None, str | None]]:
        """Change fields of the product (or of one version); ``''`` clears a field.

        Returns ``{field: (old, new)}`` for the fields that changed; each change is one
        audit event holding the old and the new value.
        """
        values = check_field_values(fields)
        changed: dict[str, tuple[str | None, str | None]] = {}
        with self._transaction() as session:
            parent = self._product_row(session, product)
            target: ProductRow | ProductVersionRow = (
                parent if version is None else self._version_row(session, parent, version))
            stored: dict[str, str] = json.loads(target.fields)
            for key, new in values.items():
                if isinstance(target, ProductVersionRow) and key == "artifact_uri":
                    old = target.artifact_uri
                    target.artifact_uri = new
                else:
                    old = stored.get(key)
                    if new is None:
                        stored.pop(key, None)
                    else:
                        stored[key] = new
                if old == new:
                    continue
                changed[key] = (old, new)
                payload: dict[str, str | None] = {"field": key, "old": old, "new": new,
                                                  "product": parent.name}
                if version is not None:
                    payload["version"] = version
                append_event(session, actor=actor,
                             action="product.field_changed" if version is None
                             else "version.field_changed",
                             entity_type="product" if version is None else "product_version",
                             entity_id=str(target.id), payload=payload)
            target.fields = canonical_json(stored)
        return changed

    def product_fields(self, product: str) -> Mapping[str, str]:
        """The product's fields by key (only those present)."""
        with self._sessions() as session:
            fields: dict[str, str] = json.loads(self._product_row(session, product).fields)
            return fields

    def version_fields(self, product: str, version: str) -> Mapping[str, str]:
        """The version's fields by key, ``artifact_uri`` included when set."""
        with self._sessions() as session:
            row = self._version_row(session, self._product_row(session, product), version)
            fields: dict[str, str] = json.loads(row.fields)
            if row.artifact_uri:
                fields["artifact_uri"] = row.artifact_uri
            return fields

    def products(self) -> list[str]:
        """The registered product names, sorted."""
        with self._sessions() as session:
            return sorted(session.execute(select(ProductRow.name)).scalars())

    def versions(self, product: str) -> dict[str, State]:
        """The versions of ``product`` and their lifecycle state, oldest first."""
        with self._sessions() as session:
            parent = self._product_row(session, product)
            rows = session.execute(select(ProductVersionRow)
                                   .where(ProductVersionRow.product_id == parent.id)
                                   .order_by(ProductVersionRow.created_at)).scalars()
            return {row.version: as_state(row.state) for row in rows}

    def version_id(self, product: str, version: str) -> uuid.UUID:
        """The store id of a version (what ``Store.save_run(run, version_id=...)`` takes)."""
        with self._sessions() as session:
            return self._version_row(session, self._product_row(session, product), version).id

    def state(self, product: str, version: str) -> State:
        """The lifecycle state of a version."""
        return self.versions(product)[self._known_version(product, version)]

    def risk_tier(self, product: str) -> RiskTier:
        """The product's clinical risk tier; ``high`` (the strictest) until one is set."""
        tier = self.product_fields(product).get("clinical_risk_tier", "high")
        return next(t for t in RISK_TIERS if t == tier)

    def _known_version(self, product: str, version: str) -> str:
        with self._sessions() as session:
            return self._version_row(session, self._product_row(session, product),
                                     version).version

    @staticmethod
    def _product_row(session: Session, name: str) -> ProductRow:
        row = session.execute(select(ProductRow).where(ProductRow.name == name)).scalar()
        if row is None:
            raise InputError(f"product {name!r} is not registered")
        return row

    @staticmethod
    def _version_row(session: Session, product: ProductRow, version: str) -> ProductVersionRow:
        row = session.execute(select(ProductVersionRow).where(
            ProductVersionRow.product_id == product.id,
            ProductVersionRow.version == version)).scalar()
        if row is None:
            raise InputError(f"version {version!r} of product {product.name!r} is not "
                             "registered")
        return row


def as_state(value: str) -> State:
    """``value`` typed as a lifecycle state (it is one: the registry only stores states)."""
    return next(s for s in STATES if s == value)
