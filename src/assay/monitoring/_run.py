"""Running a monitor: every complete window up to a date, idempotently, then alerts and
notifications.

Each window is one transaction: its new revision, the alert changes it causes and their
audit events commit together or not at all. A window whose rows and known labels have not
changed since its latest revision is skipped, so rerunning (or restarting a killed run) gives
one result per window with the same values; late labels change the hash and add a revision.
Notifications go through an outbox: queued in the database first, then delivered and logged,
so a crash or a notifier that is down never loses an alert.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from assay.errors import InputError
from assay.monitoring._alerts import apply_rules, enqueue_notifications, time_transitions
from assay.monitoring._delivery import Message, deliver
from assay.monitoring._evaluate import Baseline, WindowResult, prepare_reference
from assay.monitoring._notifier_config import FileConfig, build_notifier
from assay.monitoring._records import Alert, MonitorRecords
from assay.monitoring._source import read_rows, read_source, rows_before
from assay.monitoring._spec import MonitorSpec
from assay.monitoring._windows import Window, parse_windows, windows_between
from assay.store import Store

__all__ = ["MonitorRun", "run_monitor"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorRun:
    """What one run of a monitor did."""

    monitor: str
    as_of: datetime
    evaluated: list[WindowResult] = field(default_factory=list)
    """Windows that gained a revision in this run, oldest first."""
    unchanged: int = 0
    """Windows skipped because nothing had changed since their latest revision."""
    alerts: list[Alert] = field(default_factory=list)
    """Alerts live after the run."""
    sent: int = 0
    failed: int = 0

    def summary(self) -> str:
        """One sentence for the console."""
        live = len(self.alerts)
        return (f"{self.monitor} as of {self.as_of.date()}: {len(self.evaluated)} window(s) "
                f"evaluated, {self.unchanged} unchanged; {live} live alert(s); "
                f"{self.sent} notification(s) sent, {self.failed} not delivered (kept for "
                "the next run)")


def run_monitor(spec: MonitorSpec, store: Store, *, as_of: datetime | date | str | None = None,
                start: date | str | None = None, end: date | str | None = None,
                base: Path | None = None, data: pd.DataFrame | None = None,
                reference: pd.DataFrame | None = None, actor: str = "assay",
                sleep: Callable[[float], None] = time.sleep,
                on_window: Callable[[WindowResult], None] | None = None) -> MonitorRun:
    """Evaluate every complete window of ``spec`` up to ``as_of`` (default now).

    Parameters
    ----------
    start, end
        Limit the windows to those starting on or after ``start`` and ending by ``end``
        (a backfill); by default every window from the spec's ``start``.
    base
        Folder that relative paths in the spec are read from (the spec file's folder).
    data, reference
        Tables to use instead of reading the spec's source and reference.
    on_window
        Called after each window's transaction commits (progress reporting).
    """
    moment = as_utc(as_of) if as_of is not None else datetime.now(UTC)
    records = MonitorRecords(store)
    version_id = (store.version(spec.product, spec.version).id
                  if spec.product is not None and spec.version is not None else None)
    monitor_id = records.register(spec, version_id=version_id, actor=actor)
    time_column = spec.time_column
    if data is None:
        rows, described = read_rows(spec.source, base, time=time_column, until=moment)
    else:
        described = "the given data"
        rows = rows_before(data, described, time=time_column, until=moment)
    prepared = _baseline(spec, rows, described, reference, base)
    first = (as_utc(start) if start is not None else spec.start) or (
        rows[time_column].min().date() if len(rows) else None)
    if first is None:
        raise InputError(f"{described}: no rows before {moment.date()} and no 'start' in the "
                         "monitor: nothing to place in windows")
    windows = [w for w in windows_between(parse_windows(spec.windows), first, moment)
               if end is None or w.end <= as_utc(end)]
    evaluated, unchanged = _process(records, monitor_id, spec, prepared, rows, windows, moment,
                                    actor=actor, on_window=on_window)
    with records.transaction() as session:
        time_transitions(session, monitor_id, spec, moment, actor=actor)
        enqueue_notifications(session, monitor_id, spec)
    sent, failed = _deliver(records, monitor_id, spec, base, sleep)
    return MonitorRun(spec.name, moment, evaluated, unchanged,
                      records.alerts(monitor=spec.name), sent, failed)


def _baseline(spec: MonitorSpec, rows: pd.DataFrame, described: str,
              reference: pd.DataFrame | None, base: Path | None) -> Baseline:
    """What the windows are measured against, the rows' columns checked first."""
    if spec.genai is None:
        _check_columns(spec, rows, described)
    ref_frame, ref_name = ((reference, "the given reference") if reference is not None
                           else read_source(spec.reference, base))
    if spec.genai is None:
        return prepare_reference(spec, ref_frame, ref_name)
    # imported here: the genai package reads monitoring's types when it measures
    from assay.genai._monitor import prepare_outputs_reference

    return prepare_outputs_reference(spec, ref_frame, ref_name, rows=rows, described=described)


def _process(records: MonitorRecords, monitor_id: uuid.UUID, spec: MonitorSpec,
             reference: Baseline, rows: pd.DataFrame, windows: list[Window], as_of: datetime,
             *, actor: str, on_window: Callable[[WindowResult], None] | None
             ) -> tuple[list[WindowResult], int]:
    times = rows[spec.time_column].dt.tz_convert(None).to_numpy()
    stored = {(s.result.window_start, s.result.window_end): s.result
              for s in records.windows(spec.name)}
    history: list[WindowResult] = [r for r in stored.values()
                                   if windows and r.window_start < windows[0].start]
    evaluated: list[WindowResult] = []
    unchanged = 0
    for window in windows:
        lo, hi = np.searchsorted(times, [np.datetime64(window.start.replace(tzinfo=None)),
                                         np.datetime64(window.end.replace(tzinfo=None))])
        part = rows.iloc[lo:hi]
        previous = stored.get((window.start, window.end))
        if previous is not None and (previous.as_of > as_of or previous.data_fingerprint
                                     == reference.window_fingerprint(part, as_of)):
            # unchanged, or already known better by a run as of a later date: a run as of an
            # earlier date never replaces it (read the past with windows(as_of=...))
            history.append(previous)
            unchanged += 1
            continue
        result = reference.evaluate_window(part, window, as_of)
        history.append(result)
        with records.transaction() as session:
            status = apply_rules(records, session, monitor_id, spec, reference, history,
                                 actor=actor)
            records.add_revision(session, monitor_id, result, status)
        evaluated.append(result)
        if on_window is not None:
            on_window(result)
    return evaluated, unchanged


def _deliver(records: MonitorRecords, monitor_id: uuid.UUID, spec: MonitorSpec,
             base: Path | None, sleep: Callable[[float], None]) -> tuple[int, int]:
    pending = records.pending_notifications(monitor_id)
    if not pending:
        return 0, 0
    notifiers = {}
    for config in spec.notifiers:
        if isinstance(config, FileConfig) and base is not None \
                and not Path(config.path).is_absolute():
            config = config.model_copy(update={"path": str(base / config.path)})
        notifiers[config.name] = build_notifier(config)
    sent = failed = 0
    for row in pending:
        notifier = notifiers.get(row.notifier)
        if notifier is None:
            log.warning("notifier %r is no longer in the monitor; message kept", row.notifier)
            failed += 1
            continue
        document = json.loads(row.message_json)
        message = Message(subject=document["subject"], text=document["text"],
                          severity=document["severity"], payload=document["payload"])
        attempts = deliver(message, notifier, retries=spec.notify.retries,
                           backoff=spec.notify.backoff_seconds, sleep=sleep)
        if records.record_delivery(row.id, attempts):
            sent += 1
        else:
            failed += 1
    return sent, failed


def _check_columns(spec: MonitorSpec, rows: pd.DataFrame, described: str) -> None:
    needed = [spec.roles.target, spec.score, *spec.features, *spec.roles.groups]
    if spec.label_time is not None:
        needed.append(spec.label_time)
    absent = [c for c in dict.fromkeys(needed) if c not in rows.columns]
    if absent:
        raise InputError(f"{described}: the monitor uses column(s) "
                         f"{', '.join(map(repr, absent))}, which the data does not have")
    score = pd.to_numeric(rows[spec.score], errors="coerce")
    if score.isna().any():
        raise InputError(f"{described}, column {spec.score!r}: {int(score.isna().sum())} "
                         "row(s) have no numeric score")
    labels = rows[spec.roles.target].dropna()
    if not labels.isin([0, 1]).all():
        raise InputError(f"{described}, column {spec.roles.target!r}: labels must be 0 or 1 "
                         "(empty while unknown)")


def as_utc(moment: datetime | date | str) -> datetime:
    """A date, datetime or ISO text as a UTC-aware datetime (naive values are read as UTC)."""
    try:
        stamp = pd.Timestamp(moment)
    except ValueError as exc:
        raise InputError(f"{moment!r} is not a date or time") from exc
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()
