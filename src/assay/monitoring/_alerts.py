"""The alert lifecycle inside a window's transaction: open, update, resolve, cool down;
then, per run, snooze expiry, escalation and the notification outbox.

Times are those of the data: an alert opens (or resolves) at the end of the window that
showed it, so a backfill dates its alerts as a live monitor would have. An alert is keyed by
its rule: while one is live (open, acknowledged or snoozed) a rule that
keeps holding updates it rather than opening another, so a set of drifting features is one
alert whose feature list follows the data. Every state change is an audit event.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.monitoring._evaluate import Baseline, WindowResult
from assay.monitoring._records import MonitorRecords
from assay.monitoring._rules import clear_for, judge, signal
from assay.monitoring._spec import SEVERITY_ORDER, AlertRule, MonitorSpec
from assay.monitoring._windows import parse_duration
from assay.store import canonical_json
from assay.store._audit import append_event
from assay.store._tables import AlertRow, NotificationRow, as_utc, utc_now

__all__ = ["apply_rules", "enqueue_notifications", "time_transitions"]

_STATUS = {"info": "green", "warning": "amber", "critical": "red"}
_RANK = {"green": 0, "amber": 1, "red": 2}


def apply_rules(records: MonitorRecords, session: Session, monitor_id: uuid.UUID,
                spec: MonitorSpec, reference: Baseline, history: list[WindowResult],
                *, actor: str) -> str:
    """Judge every rule on the last window of ``history``; returns its status colour."""
    window = history[-1]
    status = "green"
    for rule in spec.alerts:
        active = records.active_alert(session, monitor_id, rule.name)
        # hysteresis gates opening; a live alert follows every window its signal holds in
        finding = (judge(rule, spec, reference, history) if active is None
                   else signal(rule, spec, reference, history))
        if finding.holds:
            colour = _STATUS[rule.severity]
            status = colour if _RANK[colour] > _RANK[status] else status
            if active is not None:
                if window.window_start >= as_utc(active.last_window_start):
                    details = _details(finding.details, window)
                    title = finding.title
                    if rule.kind == "sequential":
                        title, details = _alarm_history(active, title, details)
                    active.last_window_start = window.window_start
                    active.title, active.details_json = title, canonical_json(details)
                    active.updated_at = window.window_end
            elif not (records.covered(session, monitor_id, rule.name, window.window_start)
                      or _cooling_down(records, session, monitor_id, rule, history)):
                _open(session, monitor_id, rule, finding.title,
                      _details(finding.details, window), window, actor=actor)
        elif (finding.holds is False and active is not None
              and window.window_start >= as_utc(active.last_window_start)
              and clear_for(rule, spec, reference, history)):
            before = active.state
            active.state, active.resolved_at, active.notice = "resolved", window.window_end, None
            active.updated_at = window.window_end
            append_event(session, actor=actor, action="alert.resolved", entity_type="alert",
                         entity_id=str(active.id),
                         payload={"rule": rule.name, "from": before, "to": "resolved",
                                  "note": f"cleared in the window {window.label}: "
                                          f"{finding.title}"})
    return status


def _details(details: dict[str, Any], window: WindowResult) -> dict[str, Any]:
    return {**details, "window": window.label, "as_of": window.as_of.isoformat()}


def _alarm_history(active: AlertRow, title: str, details: dict[str, Any]
                   ) -> tuple[str, dict[str, Any]]:
    """A live sequential alert that alarms again keeps every alarm; the title says when the
    metric first moved the other way, so a later rise never hides an earlier fall."""
    before = json.loads(active.details_json)
    alarms = before.get("alarms") or [{"window": before.get("window"),
                                       "direction": before.get("direction")}]
    latest = {"window": details["window"], "direction": details.get("direction")}
    if alarms[-1] != latest:
        alarms = [*alarms, latest]
    details = {**details, "alarms": alarms}
    opposite = next((a for a in alarms if a["direction"] != latest["direction"]), None)
    if opposite is not None:
        moved = {"up": "rose", "down": "fell"}.get(opposite["direction"] or "", "moved")
        title = f"{title}; it first {moved} in the window {opposite['window']}"
    return title, details


def _cooling_down(records: MonitorRecords, session: Session, monitor_id: uuid.UUID,
                  rule: AlertRule, history: list[WindowResult]) -> bool:
    if rule.cooldown_windows == 0:
        return False
    last = records.last_resolved(session, monitor_id, rule.name)
    if last is None:
        return False
    since = as_utc(last.last_window_start)
    windows_after = sum(1 for r in history if r.window_start > since)
    return windows_after <= rule.cooldown_windows


def _open(session: Session, monitor_id: uuid.UUID, rule: AlertRule, title: str,
          details: dict[str, Any], window: WindowResult, *, actor: str) -> None:
    row = AlertRow(monitor_id=monitor_id, rule=rule.name, severity=rule.severity, state="open",
                   title=title, details_json=canonical_json(details),
                   first_window_start=window.window_start,
                   last_window_start=window.window_start, opened_at=window.window_end,
                   updated_at=window.window_end, notice="opened")
    session.add(row)
    session.flush()
    append_event(session, actor=actor, action="alert.opened", entity_type="alert",
                 entity_id=str(row.id),
                 payload={"rule": rule.name, "severity": rule.severity, "title": title,
                          "window": window.label})


def time_transitions(session: Session, monitor_id: uuid.UUID, spec: MonitorSpec,
                     as_of: datetime, *, actor: str) -> None:
    """Snoozes that ran out reopen; open alerts past their rule's ``escalate_after`` escalate."""
    rules = {r.name: r for r in spec.alerts}
    rows = session.execute(select(AlertRow).where(
        AlertRow.monitor_id == monitor_id, AlertRow.state.in_(("open", "snoozed")))).scalars()
    for row in rows:
        if row.state == "snoozed" and row.snoozed_until is not None \
                and as_utc(row.snoozed_until) <= as_of:
            row.state, row.notice, row.updated_at = "open", "reopened", as_of
            append_event(session, actor=actor, action="alert.unsnoozed", entity_type="alert",
                         entity_id=str(row.id),
                         payload={"rule": row.rule, "from": "snoozed", "to": "open"})
        rule = rules.get(row.rule)
        if (row.state == "open" and row.escalated_at is None and rule is not None
                and rule.escalate_after is not None
                and as_utc(row.opened_at) + parse_duration(rule.escalate_after) <= as_of):
            before = row.severity
            row.escalated_at, row.severity, row.notice = as_of, "critical", "escalated"
            row.updated_at = as_of
            append_event(session, actor=actor, action="alert.escalated", entity_type="alert",
                         entity_id=str(row.id),
                         payload={"rule": row.rule, "from_severity": before,
                                  "to_severity": "critical",
                                  "after": rule.escalate_after})


def enqueue_notifications(session: Session, monitor_id: uuid.UUID, spec: MonitorSpec) -> int:
    """Turn alerts with an unsent change into outbox messages, one per notifier (a digest of
    all of them, or one per alert); returns how many messages were queued."""
    rows = list(session.execute(select(AlertRow).where(
        AlertRow.monitor_id == monitor_id, AlertRow.notice.is_not(None))
        .order_by(AlertRow.opened_at, AlertRow.rule)).scalars())
    floor = SEVERITY_ORDER[spec.notify.min_severity]
    due = [r for r in rows if SEVERITY_ORDER[r.severity] >= floor]
    batches = [due] if spec.notify.digest and due else [[r] for r in due]
    queued = 0
    for batch in batches:
        message = build_message(spec, batch)
        for config in spec.notifiers:
            session.add(NotificationRow(
                monitor_id=monitor_id, notifier=config.name or config.type,
                severity=message["severity"], subject=message["subject"],
                message_json=canonical_json(message), status="pending", attempts=0,
                created_at=utc_now()))
            queued += 1
    for row in rows:
        row.notice = None
    return queued


def build_message(spec: MonitorSpec, alerts: list[AlertRow]) -> dict[str, Any]:
    """Subject, plain text and payload of a message about ``alerts``."""
    worst = max((a.severity for a in alerts), key=SEVERITY_ORDER.__getitem__)
    colour = _STATUS[worst].upper()
    what = {"opened": "new", "escalated": "escalated", "reopened": "snooze ended"}
    if len(alerts) == 1:
        alert = alerts[0]
        subject = f"[{colour}] {spec.name}: {alert.rule} ({what.get(alert.notice or '', '')})"
    else:
        subject = f"[{colour}] {spec.name}: {len(alerts)} alerts need attention"
    lines = [f"Monitor {spec.name}"
             + (f" of {spec.product} {spec.version}" if spec.product else "") + ":", ""]
    for alert in alerts:
        lines.append(f"- {alert.rule} ({alert.severity}, {what.get(alert.notice or '', '')}): "
                     f"{alert.title}")
    lines += ["", "Acknowledge with: assay alerts ack ALERT_ID --by NAME"]
    payload = {"monitor": spec.name, "product": spec.product, "version": spec.version,
               "alerts": [{"id": str(a.id), "rule": a.rule, "severity": a.severity,
                           "state": a.state, "change": a.notice, "title": a.title,
                           "details": json.loads(a.details_json),
                           "first_window_start": as_utc(a.first_window_start).isoformat(),
                           "last_window_start": as_utc(a.last_window_start).isoformat()}
                          for a in alerts]}
    return {"subject": subject, "text": "\n".join(lines), "severity": worst,
            "payload": payload}
