"""The monitoring report of one monitor: status, data, drift, performance, fairness, alerts.

A generative application's monitor (``genai:``) gets the same page with its own sections
(:mod:`assay.reports._monitoring_genai`): outputs, flags, output measures and input drift.

Drawn from the windows, alerts and delivery log stored by :func:`assay.monitoring.run_monitor`
(nothing is recomputed), in the order of the governance reference's monthly performance report:
a GREEN / AMBER / RED status with its reason first, then volume and flag rate, data quality,
drift, performance and calibration with label maturity and revisions, fairness over time, and
alerts with their delivery. HTML (one self-contained page) or PDF (WeasyPrint).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from assay.errors import InputError, MissingExtraError
from assay.reports import _monitoring_plots as plots
from assay.reports._format import format_count, format_percent, format_threshold, metric_title
from assay.reports._monitoring_genai import CONTENTS as GENAI_CONTENTS
from assay.reports._monitoring_genai import (
    genai_facts,
    genai_reading_notes,
    genai_sections,
    genai_summary,
)
from assay.reports._monitoring_sections import (
    _STATUS,
    View,
    _value,
    alert_title,
    alerts_section,
    fairness_section,
    interval,
    performance_section,
    quality_section,
    reading_notes,
    volume_section,
)
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.monitoring import Alert, MonitorRecords, MonitorSpec, StoredWindow
    from assay.store import Store

__all__ = ["render_monitoring_report"]

_RANK = {"green": 0, "amber": 1, "red": 2}
_SEVERITY_COLOUR = {"info": "green", "warning": "amber", "critical": "red"}
_LIVE = ("open", "acknowledged", "snoozed")
_DAY = timedelta(days=1)


def render_monitoring_report(store_or_records: Store | MonitorRecords, monitor: str,
                             path: str | Path, *, as_of: datetime | date | str | None = None,
                             ) -> Path:
    """Write the monitoring report of ``monitor`` as HTML or PDF (from ``path``'s suffix).

    Parameters
    ----------
    store_or_records
        The store the monitor ran into, or its :class:`~assay.monitoring.MonitorRecords`.
    monitor
        The monitor's name.
    path
        Where to write: ``.html`` (one self-contained page) or ``.pdf`` (the ``pdf`` extra).
    as_of
        Show the windows as they were known on this date (their revisions up to then) and the
        alerts opened by then; default everything stored.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        for an unknown monitor, a monitor with no stored window, or another suffix.
    MissingExtraError
        without jinja2 and matplotlib (``report`` extra) or WeasyPrint (``pdf`` extra).
    """
    from assay.monitoring import MonitorRecords

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InputError(f"{target}: the report is written as .html or .pdf "
                         f"(got {suffix or 'no suffix'!r})")
    records = (store_or_records if isinstance(store_or_records, MonitorRecords)
               else MonitorRecords(store_or_records))
    html = monitoring_html(records, monitor, as_of=_moment(as_of))
    if suffix == ".pdf":
        try:
            import weasyprint
        except ImportError as exc:
            raise MissingExtraError("pdf", "weasyprint") from exc
        weasyprint.HTML(string=html).write_pdf(str(target))
    else:
        target.write_text(html, encoding="utf-8")
    return target


def _moment(value: datetime | date | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def monitoring_html(records: MonitorRecords, monitor: str, *, as_of: datetime | None) -> str:
    """The report as one HTML page (inline CSS and SVG, no scripts)."""
    from markupsafe import Markup

    from assay.reports._html import template_environment

    view = build_view(records, monitor, as_of=as_of)
    view.css = Markup(resources.files("assay.reports").joinpath("templates/report.css")
                      .read_text("utf-8"))
    return template_environment().get_template("monitoring.html.j2").render(report=view)


def _live(alert: Alert, as_of: datetime | None) -> bool:
    if as_of is None:
        return alert.state in _LIVE
    return alert.opened_at <= as_of and (alert.resolved_at is None or alert.resolved_at > as_of)


def window_phrase(spec: MonitorSpec, start: datetime) -> str:
    """``the week of 2026-03-02``, ``the month of March 2026``, ``2026-03-02``."""
    kind = spec.windows.strip().lower()
    if kind == "weekly":
        return f"the week of {start.date().isoformat()}"
    if kind == "monthly":
        return f"the month of {start:%B %Y}"
    if kind == "daily":
        return start.date().isoformat()
    return f"the window starting {start.date().isoformat()}"


def overall_status(spec: MonitorSpec, latest: StoredWindow, live: list[Alert]
                   ) -> tuple[str, str]:
    """The status colour and its reason in words, from the latest window and live alerts."""
    colour = latest.status if latest.status in _RANK else "amber"
    for alert in live:
        severity = _SEVERITY_COLOUR.get(alert.severity, "amber")
        colour = severity if _RANK[severity] > _RANK[colour] else colour
    word = _STATUS[colour][0]
    label = latest.result.label
    if not live:
        return colour, (f"{word}: no alert is live; the monitor's rules rated the latest "
                        f"window ({label}) {colour}.")
    ordered = sorted(live, key=lambda a: (-_RANK[_SEVERITY_COLOUR.get(a.severity, "amber")],
                                          a.first_window_start))
    counts = Counter((a.severity, a.state) for a in ordered)
    phrases = [f"{n} {severity} alert{'' if n == 1 else 's'} {state}"
               for (severity, state), n in counts.items()]
    lead = ordered[0]
    reason = (f"{word}: {join_words(phrases)} — {alert_title(lead.title)} since "
              f"{window_phrase(spec, lead.first_window_start)}")
    others = [f"{alert_title(a.title)} (since {window_phrase(spec, a.first_window_start)})"
              for a in ordered[1:]]
    return colour, reason + (f"; also {'; '.join(others)}." if others else ".")


def _assumption(windows: list[StoredWindow]) -> str | None:
    return next((w.result.estimation_assumption for w in reversed(windows)
                 if w.result.estimation_assumption), None)


def build_view(records: MonitorRecords, monitor: str, *, as_of: datetime | None) -> View:
    """Build the formatted view of a monitor's stored records (the template's only input)."""
    from assay import __version__

    spec = records.spec(monitor)
    windows = records.windows(monitor, as_of=as_of)
    if not windows:
        when = f" as of {as_of.date()}" if as_of is not None else ""
        raise InputError(f"monitor {monitor!r} has no stored window{when}: run it first "
                         "(assay monitor run)")
    alerts = [a for a in records.alerts(monitor=monitor, states=(*_LIVE, "resolved"))
              if as_of is None or a.opened_at <= as_of]
    live = [a for a in alerts if _live(a, as_of)]
    latest = windows[-1]
    colour, reason = overall_status(spec, latest, live)
    word, css, symbol = _STATUS[colour]
    seen = as_of or max(w.result.as_of for w in windows)
    product = (f"{spec.product}, version {spec.version}" if spec.product and spec.version
               else "not linked to a registered product version")
    first, last = windows[0].result, latest.result
    span = (f"{len(windows)} {spec.windows}, {first.window_start.date()} to "
            f"{(last.window_end - _DAY).date()}")
    alert_count = ("Alerts", f"{len(live)} live, {len(alerts) - len(live)} resolved")
    deliveries = records.deliveries(monitor)
    if spec.genai is not None:
        view = View(
            title=f"Monitoring report: {spec.name}", status=(colour, word, css, symbol),
            reason=reason, facts=[("Monitor", spec.name), ("Product and version", product),
                                  ("Windows", span), ("As of", seen.date().isoformat()),
                                  *genai_facts(spec), alert_count],
            summary=genai_summary(windows, live), assumption=None,
            assay_version=__version__, contents=list(GENAI_CONTENTS))
        genai_sections(view, windows)
        alerts_section(view, spec, alerts, live, deliveries)
        view.reading = genai_reading_notes()
        return view
    threshold = format_threshold(spec.threshold) if spec.threshold is not None else None
    facts = [
        ("Monitor", spec.name),
        ("Product and version", product),
        ("Windows", span),
        ("As of", seen.date().isoformat()),
        ("Outcome and score", f"“{spec.roles.target}”, score “{spec.score}”"
                              + (f", threshold {threshold}" if threshold else "")),
        ("Outcome window", f"{spec.outcome_window}"
                           + (f"; outcomes dated by “{spec.label_time}”" if spec.label_time
                              else "")),
        alert_count,
    ]
    timeline = plots.timeline(windows)
    view = View(
        title=f"Monitoring report: {spec.name}",
        status=(colour, word, css, symbol), reason=reason, facts=facts,
        summary=summary_sentences(spec, windows, live),
        assumption=_assumption(windows), assay_version=__version__,
        estimates_in_use=last.n_labelled < last.n)
    volume_section(view, spec, windows, timeline, threshold)
    quality_section(view, spec, windows, timeline)
    revisions = records.windows(monitor, as_of=as_of, all_revisions=True)
    performance_section(view, spec, windows, revisions, timeline)
    fairness_section(view, windows, timeline)
    alerts_section(view, spec, alerts, live, deliveries)
    view.reading = reading_notes(spec, view.assumption)
    return view


def summary_sentences(spec: MonitorSpec, windows: list[StoredWindow],
                      live: list[Alert]) -> list[str]:
    """The status section's sentences: the latest window, measured and estimated performance."""
    latest = windows[-1].result
    text = [f"The latest window, {latest.label}, held {format_count(latest.n)} predictions; "
            f"outcomes were known for {format_count(latest.n_labelled)} of them as of "
            f"{latest.as_of.date()}."]
    by_window: dict[datetime, list[str]] = {}
    for metric in spec.metrics:
        measured = next((w.result for w in reversed(windows)
                         if _value(w.result.signals.get(metric)) is not None), None)
        if measured is None:
            continue
        reference = measured.reference_signals.get(metric)
        against = f" against {interval(reference)} on the reference" if reference else ""
        by_window.setdefault(measured.window_start, []).append(
            f"{metric_title(metric)} {interval(measured.signals[metric])}{against}")
    for start, parts in by_window.items():
        measured = next(w.result for w in windows if w.result.window_start == start)
        maturity = measured.label_maturity
        where = ("In the latest window" if measured is latest
                 else f"In the latest window with enough outcomes ({measured.label}")
        if measured is not latest:
            where += (f", outcomes {format_percent(maturity, 0)} complete)"
                      if maturity is not None and maturity < 1.0 else ")")
        text.append(f"{where}: {'; '.join(parts)}.")
    estimated = [(m, latest.signals[f"estimated_{m}"]) for m in spec.metrics
                 if f"estimated_{m}" in latest.signals and m not in latest.signals]
    if estimated:
        text.append(f"With outcomes not yet known for {latest.label}, estimated without "
                    "labels: " + "; ".join(f"{metric_title(m)} {interval(e)}"
                                           for m, e in estimated) + ".")
    method = plots.drift_method(windows)
    drifted = [r for r in latest.drift if r.method == method and r.drifted]
    if drifted:
        name = (method or "").upper()
        text.append(f"Drifted against the reference in the latest window ({name} above "
                    f"{drifted[0].threshold:g}): {join_words([r.feature for r in drifted])}.")
    if not live:
        text.append("No alert is live.")
    return text
