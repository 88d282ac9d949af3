"""The audit hash chain: append an event, and recompute the chain to find its first broken link.

Each event's hash is ``sha256(prev_hash + canonical JSON of {seq, at, actor, action,
entity_type, entity_id, payload})``; the first event's ``prev_hash`` is 64 zeros. The
``audit_head`` row holds the newest seq and hash, so deleting the last event also shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.store._tables import AuditEventRow, AuditHeadRow, as_utc, utc_now

__all__ = ["GENESIS_HASH", "AuditEvent", "AuditVerification", "append_event", "canonical_json",
           "event_hash", "read_events", "verify_chain"]

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value``: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, *, seq: int, at: datetime, actor: str, action: str,
               entity_type: str, entity_id: str, payload: Any) -> str:
    """The SHA-256 hex digest chaining one event to the previous one.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> digest = event_hash(GENESIS_HASH, seq=1, at=datetime(2026, 1, 1, tzinfo=UTC),
    ...                     actor="ana", action="product.created", entity_type="product",
    ...                     entity_id="x", payload={"name": "sepsis-alert"})
    >>> len(digest)
    64
    """
    body = canonical_json({
        "seq": seq, "at": as_utc(at).isoformat(timespec="microseconds"), "actor": actor,
        "action": action, "entity_type": entity_type, "entity_id": entity_id,
        "payload": payload,
    })
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEvent:
    """One audit event as read back from the store."""

    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of recomputing the audit chain.

    ``first_broken_seq`` is the seq of the first event that is edited, missing or out of place
    (None when the chain is intact, or when only the head record is missing).
    """

    ok: bool
    n_events: int
    first_broken_seq: int | None = None
    reason: str | None = None


def append_event(session: Session, *, actor: str, action: str, entity_type: str,
                 entity_id: str, payload: dict[str, Any]) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    The head row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL), so concurrent writers
    take turns and the seq stays gap-free.
    """
    head = session.execute(select(AuditHeadRow).with_for_update()).scalar_one_or_none()
    if head is None:
        raise RuntimeError("the audit chain's head record is missing; run 'assay audit verify'")
    text = canonical_json(payload)
    at = utc_now()
    seq = head.seq + 1
    digest = event_hash(head.hash, seq=seq, at=at, actor=actor, action=action,
                        entity_type=entity_type, entity_id=entity_id, payload=json.loads(text))
    session.add(AuditEventRow(seq=seq, at=at, actor=actor, action=action,
                              entity_type=entity_type, entity_id=entity_id, payload=text,
                              prev_hash=head.hash, hash=digest))
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, entity_type=entity_type,
                       entity_id=entity_id, payload=json.loads(text), prev_hash=head.hash,
                       hash=digest)
    head.seq, head.hash = seq, digest
    return event


def verify_chain(session: Session) -> AuditVerification:
    """Recompute every hash in seq order and report the first broken link."""
    rows = session.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars().all()
    expected_seq, prev_hash = 1, GENESIS_HASH
    for row in rows:
        problem = _check(row, expected_seq, prev_hash)
        if problem is not None:
            return AuditVerification(False, len(rows), expected_seq, problem)
        expected_seq, prev_hash = row.seq + 1, row.hash
    head = session.execute(select(AuditHeadRow)).scalars().all()
    if len(head) != 1:
        return AuditVerification(False, len(rows), None,
                                 f"the chain head record is missing or doubled ({len(head)} rows)")
    if head[0].seq != expected_seq - 1 or head[0].hash != prev_hash:
        return AuditVerification(
            False, len(rows), expected_seq,
            f"event {expected_seq} is missing: the head records {head[0].seq} events, "
            f"the log holds {expected_seq - 1}")
    return AuditVerification(True, len(rows))


def _check(row: AuditEventRow, expected_seq: int, prev_hash: str) -> str | None:
    """Why ``row`` breaks the chain at ``expected_seq``, or None when it holds."""
    if row.seq != expected_seq:
        return f"event {expected_seq} is missing (the next stored event has seq {row.seq})"
    if row.prev_hash != prev_hash:
        return f"event {row.seq}: prev_hash does not match the hash of event {row.seq - 1}"
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return f"event {row.seq}: payload is not valid JSON"
    if canonical_json(payload) != row.payload:
        return f"event {row.seq}: payload is not in canonical JSON form"
    recomputed = event_hash(prev_hash, seq=row.seq, at=row.at, actor=row.actor,
                            action=row.action, entity_type=row.entity_type,
                            entity_id=row.entity_id, payload=payload)
    if recomputed != row.hash:
        return f"event {row.seq}: contents do not match its hash (edited)"
    return None


def read_events(session: Session) -> list[AuditEvent]:
    """All audit events in seq order."""
    rows = session.execute(select(AuditEventRow).order_by(AuditEventRow.seq)).scalars()
    return [AuditEvent(seq=r.seq, at=as_utc(r.at), actor=r.actor, action=r.action,
                       entity_type=r.entity_type, entity_id=r.entity_id,
                       payload=json.loads(r.payload), prev_hash=r.prev_hash, hash=r.hash)
            for r in rows]
