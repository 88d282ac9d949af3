"""Monitoring in the store: monitors, window revisions, alerts and the notification outbox.

Every change of an alert's state is a hash-chained audit event written in the same
transaction as the change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assay.errors import InputError
from assay.monitoring._evaluate import WindowResult
from assay.monitoring._spec import MonitorSpec
from assay.store import Store, canonical_json
from assay.store._audit import append_event
from assay.store._tables import (
    AlertRow,
    DeliveryRow,
    MonitorRow,
    MonitorWindowRow,
    NotificationRow,
    as_utc,
    utc_now,
)

__all__ = ["ACTIVE", "Alert", "MonitorRecords", "StoredWindow"]

ACTIVE = ("open", "acknowledged", "snoozed")
"""Alert states in which the alert is still live (a new one for its rule is not opened)."""


@dataclass(frozen=True)
class StoredWindow:
    """One stored revision of a window."""

    revision: int
    status: str
    result: WindowResult
    created_at: datetime


@dataclass(frozen=True)
class Alert:
    """An alert as stored."""

    id: uuid.UUID
    monitor: str
    rule: str
    severity: str
    state: str
    title: str
    details: dict[str, Any]
    first_window_start: datetime
    last_window_start: datetime
    opened_at: datetime
    updated_at: datetime
    snoozed_until: datetime | None
    escalated_at: datetime | None
    resolved_at: datetime | None


class MonitorRecords:
    """Reads and writes of monitoring records in one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sessions = sessionmaker(store.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose writes commit together or not at all."""
        with self._sessions.begin() as session:
            yield session

    # monitors -----------------------------------------------------------------------------

    def register(self, spec: MonitorSpec, *, version_id: uuid.UUID | None,
                 actor: str) -> uuid.UUID:
        """Store the monitor, or its changed spec (audited); returns its id."""
        document = spec.model_dump(mode="json", by_alias=True)
        with self.transaction() as session:
            row = session.execute(select(MonitorRow).where(MonitorRow.name == spec.name)
                                  ).scalar()
            if row is None:
                row = MonitorRow(name=spec.name, version_id=version_id,
                                 spec_json=canonical_json(document),
                                 spec_fingerprint=spec.fingerprint, created_at=utc_now(),
                                 updated_at=utc_now())
                session.add(row)
                session.flush()
                append_event(session, actor=actor, action="monitor.created",
                             entity_type="monitor", entity_id=str(row.id),
                             payload={"name": spec.name, "spec": document,
                                      "version_id": version_id and str(version_id)})
            elif row.spec_fingerprint != spec.fingerprint or row.version_id != version_id:
                row.spec_json = canonical_json(document)
                row.spec_fingerprint = spec.fingerprint
                row.version_id = version_id
                row.updated_at = utc_now()
                append_event(session, actor=actor, action="monitor.updated",
                             entity_type="monitor", entity_id=str(row.id),
                             payload={"name": spec.name, "spec": document})
            return row.id

    def monitor_id(self, name: str) -> uuid.UUID:
        """The id of the monitor called ``name``; unknown is an InputError."""
        with self._sessions() as session:
            row = session.execute(select(MonitorRow).where(MonitorRow.name == name)).scalar()
            if row is None:
                raise InputError(f"monitor {name!r} is not in the store {self.store.safe_url}")
            return row.id

    def spec(self, name: str) -> MonitorSpec:
        """The stored spec of monitor ``name``."""
        with self._sessions() as session:
            row = session.execute(select(MonitorRow).where(MonitorRow.name == name)).scalar()
            if row is None:
                raise InputError(f"monitor {name!r} is not in the store {self.store.safe_url}")
            return MonitorSpec.model_validate(json.loads(row.spec_json))

    # windows ------------------------------------------------------------------------------

    def latest(self, session: Session, monitor_id: uuid.UUID,
               start: datetime, end: datetime) -> MonitorWindowRow | None:
        """The newest revision of one window, if any."""
        return session.execute(
            select(MonitorWindowRow).where(MonitorWindowRow.monitor_id == monitor_id,
                                           MonitorWindowRow.window_start == start,
                                           MonitorWindowRow.window_end == end)
            .order_by(MonitorWindowRow.revision.desc()).limit(1)).scalar()

    def add_revision(self, session: Session, monitor_id: uuid.UUID, result: WindowResult,
                     status: str) -> int:
        """Store a new revision of ``result``'s window; returns its number (1 for the first)."""
        previous = self.latest(session, monitor_id, result.window_start, result.window_end)
        revision = 1 if previous is None else previous.revision + 1
        session.add(MonitorWindowRow(
            monitor_id=monitor_id, window_start=result.window_start,
            window_end=result.window_end, revision=revision, as_of=result.as_of,
            data_fingerprint=result.data_fingerprint, status=status,
            result_json=result.model_dump_json(), created_at=utc_now()))
        session.flush()
        return revision

    def windows(self, monitor: str, *, as_of: datetime | None = None,
                all_revisions: bool = False) -> list[StoredWindow]:
        """Window results oldest first: the latest revision of each (as known at ``as_of``
        when given), or every revision."""
        monitor_id = self.monitor_id(monitor)
        query = select(MonitorWindowRow).where(MonitorWindowRow.monitor_id == monitor_id)
        if as_of is not None:
            query = query.where(MonitorWindowRow.as_of <= as_of)
        query = query.order_by(MonitorWindowRow.window_start, MonitorWindowRow.window_end,
                               MonitorWindowRow.revision)
        with self._sessions() as session:
            rows = list(session.execute(query).scalars())
        if not all_revisions:
            newest: dict[tuple[datetime, datetime], MonitorWindowRow] = {}
            for row in rows:
                newest[(row.window_start, row.window_end)] = row
            rows = list(newest.values())
        return [StoredWindow(row.revision, row.status,
                             WindowResult.model_validate_json(row.result_json),
                             as_utc(row.created_at)) for row in rows]

    # alerts -------------------------------------------------------------------------------

    def active_alert(self, session: Session, monitor_id: uuid.UUID,
                     rule: str) -> AlertRow | None:
        """The live alert of ``rule``, if any."""
        return session.execute(select(AlertRow).where(
            AlertRow.monitor_id == monitor_id, AlertRow.rule == rule,
            AlertRow.state.in_(ACTIVE))).scalar()

    def covered(self, session: Session, monitor_id: uuid.UUID, rule: str,
                window_start: datetime) -> bool:
        """Whether an alert of ``rule`` already spans the window starting at ``window_start``
        (a re-evaluated window must not raise it again)."""
        return session.execute(select(AlertRow.id).where(
            AlertRow.monitor_id == monitor_id, AlertRow.rule == rule,
            AlertRow.first_window_start <= window_start,
            AlertRow.last_window_start >= window_start).limit(1)).first() is not None

    def last_resolved(self, session: Session, monitor_id: uuid.UUID,
                      rule: str) -> AlertRow | None:
        """The most recently resolved alert of ``rule``, for its cool-down."""
        return session.execute(select(AlertRow).where(
            AlertRow.monitor_id == monitor_id, AlertRow.rule == rule,
            AlertRow.state == "resolved").order_by(AlertRow.last_window_start.desc())
            .limit(1)).scalar()

    def alerts(self, *, monitor: str | None = None, states: tuple[str, ...] = ACTIVE
               ) -> list[Alert]:
        """Alerts in ``states`` (default the live ones), newest first."""
        query = (select(AlertRow, MonitorRow.name).join(MonitorRow)
                 .where(AlertRow.state.in_(states)).order_by(AlertRow.opened_at.desc()))
        if monitor is not None:
            query = query.where(AlertRow.monitor_id == self.monitor_id(monitor))
        with self._sessions() as session:
            return [_alert(row, name) for row, name in session.execute(query).all()]

    def change_alert(self, alert_id: uuid.UUID | str, action: str, *, actor: str,
                     note: str | None = None, until: datetime | None = None) -> Alert:
        """``acknowledge``, ``resolve`` or ``snooze`` (``until`` a date) an alert, audited."""
        key = _uuid(alert_id)
        allowed = {"acknowledge": ("open", "snoozed"), "resolve": ACTIVE,
                   "snooze": ("open", "acknowledged", "snoozed")}
        with self.transaction() as session:
            row = session.get(AlertRow, key)
            if row is None:
                raise InputError(f"alert {key} is not in the store")
            if row.state not in allowed[action]:
                raise InputError(f"alert {key} is {row.state}; it cannot be {action}d")
            before = row.state
            now = utc_now()
            if action == "acknowledge":
                row.state = "acknowledged"
            elif action == "resolve":
                row.state, row.resolved_at = "resolved", now
            else:
                if until is None or until <= now:
                    raise InputError("snooze needs a date in the future (--until)")
                row.state, row.snoozed_until = "snoozed", until
            row.updated_at = now
            append_event(session, actor=actor, action=f"alert.{row.state}",
                         entity_type="alert", entity_id=str(row.id),
                         payload={"rule": row.rule, "from": before, "to": row.state,
                                  "note": note, "until": until and until.isoformat()})
            name = session.get(MonitorRow, row.monitor_id)
            assert name is not None
            return _alert(row, name.name)

    # notifications ------------------------------------------------------------------------

    def pending_notifications(self, monitor_id: uuid.UUID) -> list[NotificationRow]:
        """Messages not yet delivered, oldest first."""
        with self._sessions() as session:
            return list(session.execute(select(NotificationRow).where(
                NotificationRow.monitor_id == monitor_id, NotificationRow.status == "pending")
                .order_by(NotificationRow.created_at)).scalars())

    def record_delivery(self, notification_id: uuid.UUID, attempts: list[Any]) -> bool:
        """Log delivery attempts; the notification is ``sent`` when the last one succeeded."""
        with self.transaction() as session:
            row = session.get(NotificationRow, notification_id)
            assert row is not None
            for attempt in attempts:
                row.attempts += 1
                session.add(DeliveryRow(notification_id=row.id, attempt=row.attempts,
                                        ok=attempt.ok, error=attempt.error, at=attempt.at))
            delivered = bool(attempts) and attempts[-1].ok
            if delivered:
                row.status, row.delivered_at = "sent", attempts[-1].at
            return delivered

    def deliveries(self, monitor: str) -> list[dict[str, Any]]:
        """The delivery log of a monitor's notifications, oldest first."""
        monitor_id = self.monitor_id(monitor)
        query = (select(DeliveryRow, NotificationRow).join(NotificationRow)
                 .where(NotificationRow.monitor_id == monitor_id)
                 .order_by(DeliveryRow.at, DeliveryRow.attempt))
        with self._sessions() as session:
            return [{"notifier": n.notifier, "subject": n.subject, "attempt": d.attempt,
                     "ok": d.ok, "error": d.error, "at": as_utc(d.at), "status": n.status}
                    for d, n in session.execute(query).all()]


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InputError(f"alert id {value!r} is not a UUID") from exc


def _optional(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _alert(row: AlertRow, monitor: str) -> Alert:
    return Alert(id=row.id, monitor=monitor, rule=row.rule, severity=row.severity,
                 state=row.state, title=row.title, details=json.loads(row.details_json),
                 first_window_start=as_utc(row.first_window_start),
                 last_window_start=as_utc(row.last_window_start),
                 opened_at=as_utc(row.opened_at), updated_at=as_utc(row.updated_at),
                 snoozed_until=_optional(row.snoozed_until),
                 escalated_at=_optional(row.escalated_at),
                 resolved_at=_optional(row.resolved_at))
