"""The monitoring report of one monitor: status, data, drift, performance, fairness, alerts.

Drawn from the windows, alerts and delivery log stored by :func:`assay.monitoring.run_monitor`
(nothing is recomputed), in the order of the governance reference's monthly performance report:
a GREEN / AMBER / RED status with its reason first, then volume and flag rate, data quality,
drift, performance and calibration with label maturity and revisions, fairness over time, and
alerts with their delivery. HTML (one self-contained page) or PDF (WeasyPrint).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import InputError, MissingExtraError
from assay.reports import _monitoring_plots as plots
from assay.reports._format import (
    MISSING,
    format_count,
    format_interval,
    format_percent,
    format_threshold,
    metric_title,
)
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.metrics import Estimate
    from assay.monitoring import Alert, MonitorRecords, MonitorSpec, StoredWindow
    from assay.store import Store

__all__ = ["render_monitoring_report"]

TABLE_WINDOWS = 12
"""The per-window performance table lists this many latest windows (the plots show all)."""
FAIRNESS_BAND = (0.8, 1.25)
"""Ratio of a group's value to all patients' outside which the fairness table marks it
(Seismometer's default, τ = 0.25)."""
_STATUS = {"green": ("GREEN", "pass", "✓"), "amber": ("AMBER", "warn", "!"),
           "red": ("RED", "fail", "✗")}
_RANK = {"green": 0, "amber": 1, "red": 2}
_SEVERITY_COLOUR = {"info": "green", "warning": "amber", "critical": "red"}
_LIVE = ("open", "acknowledged", "snoozed")


@dataclass(frozen=True)
class Figure:
    """One inline SVG figure with its caption."""

    caption: str
    svg: Any


@dataclass
class View:
    """Everything the template lays out, already formatted."""

    title: str
    status: tuple[str, str, str, str]
    reason: str
    facts: list[tuple[str, str]]
    summary: list[str]
    assumption: str | None
    volume: list[Figure] = field(default_factory=list)
    volume_text: list[str] = field(default_factory=list)
    quality: list[str] = field(default_factory=list)
    quality_figures: list[Figure] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    drift_figures: list[Figure] = field(default_factory=list)
    performance: list[str] = field(default_factory=list)
    performance_figures: list[Figure] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    revisions: list[list[str]] = field(default_factory=list)
    revision_head: list[str] = field(default_factory=list)
    fairness: list[str] = field(default_factory=list)
    fairness_figures: list[Figure] = field(default_factory=list)
    fairness_head: list[str] = field(default_factory=list)
    fairness_rows: list[list[str]] = field(default_factory=list)
    alerts: list[list[str]] = field(default_factory=list)
    deliveries: list[list[str]] = field(default_factory=list)
    delivery_summary: str = ""
    reading: list[str] = field(default_factory=list)
    assay_version: str = ""
    css: Any = ""


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


def alert_title(title: str) -> str:
    """An alert's stored title with metric and method names in the report's words."""
    first, _, rest = title.partition(" ")
    words = {"cusum": "CUSUM", "page_hinkley": "Page–Hinkley", "psi": "PSI"}
    for key, word in words.items():
        rest = rest.replace(f"({key},", f"({word},").replace(f"({key} ", f"({word} ")
    return f"{metric_title(first) if '_' in first or first.islower() else first} {rest}"


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
    revisions = records.windows(monitor, as_of=as_of, all_revisions=True)
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
    threshold = format_threshold(spec.threshold) if spec.threshold is not None else None
    facts = [
        ("Monitor", spec.name),
        ("Product and version", product),
        ("Windows", f"{len(windows)} {spec.windows}, {first.window_start.date()} to "
                    f"{(last.window_end - _DAY).date()}"),
        ("As of", seen.date().isoformat()),
        ("Data through", (last.window_end - _DAY).date().isoformat()),
        ("Outcome and score", f"“{spec.roles.target}”, score “{spec.score}”"
                              + (f", threshold {threshold}" if threshold else "")),
        ("Outcome window", f"{spec.outcome_window}"
                           + (f"; outcomes dated by “{spec.label_time}”" if spec.label_time
                              else "")),
        ("Alerts", f"{len(live)} live, {len(alerts) - len(live)} resolved"),
    ]
    timeline = plots.timeline(windows)
    view = View(
        title=f"Monitoring report: {spec.name}",
        status=(colour, word, css, symbol), reason=reason, facts=facts,
        summary=summary_sentences(spec, windows, live),
        assumption=_assumption(windows), assay_version=__version__)
    volume_section(view, spec, windows, timeline, threshold)
    quality_section(view, spec, windows, timeline)
    performance_section(view, spec, windows, revisions, timeline)
    fairness_section(view, windows, timeline)
    alerts_section(view, spec, alerts, live, records.deliveries(monitor))
    view.reading = reading_notes(spec, view.assumption)
    return view


_DAY = timedelta(days=1)


def interval(estimate: Estimate | None) -> str:
    """``0.781 (0.762–0.799)`` or a dash."""
    return format_interval(estimate) if estimate is not None else MISSING


def _value(estimate: Estimate | None) -> float | None:
    return None if estimate is None else estimate.value


def _share(value: float | None) -> str:
    return format_percent(value)


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


def volume_section(view: View, spec: MonitorSpec, windows: list[StoredWindow],
           timeline: plots.Timeline, threshold: str | None) -> None:
    """Volume and flag rate: words and the figure."""
    volumes = [float(w.result.n) for w in windows]
    total = sum(w.result.n for w in windows)
    latest = windows[-1].result
    text = [f"{format_count(total)} predictions in {len(windows)} windows "
            f"({format_count(round(total / len(windows)))} per window on average; "
            f"{format_count(min(w.result.n for w in windows))} to "
            f"{format_count(max(w.result.n for w in windows))})."]
    flag = plots.series(windows, "flag_rate")
    reference = latest.reference_signals.get("flag_rate")
    if flag is not None and "flag_rate" in latest.signals:
        text.append(f"Flag rate in the latest window (score at or above {threshold}): "
                    f"{interval(latest.signals['flag_rate'])}"
                    + (f"; on the reference {interval(reference)}." if reference else "."))
    view.volume_text = text
    view.volume.append(Figure(
        "Predictions per window (bars) and the share flagged, with its 95% Wilson CI band; "
        "the dashed line is the flag rate on the reference (validation) data.",
        _markup(plots.volume_svg(timeline, volumes, flag,
                                reference_flag_rate=_value(reference), threshold=threshold))))


def quality_section(view: View, spec: MonitorSpec, windows: list[StoredWindow],
                      timeline: plots.Timeline) -> None:
    """Missing values per feature, and the drift panel with drifted features named."""
    features = list(spec.features)
    raised: dict[str, list[StoredWindow]] = {}
    for w in windows:
        for r in w.result.drift:
            if r.method == "missing_share" and r.drifted:
                raised.setdefault(r.feature, []).append(w)
    for feature in features:
        flagged = raised.get(feature, [])
        top = max(windows, key=lambda w: w.result.missing_share.get(feature, 0.0))
        share = top.result.missing_share.get(feature, 0.0)
        if flagged:
            view.quality.append(
                f"{feature}: the share missing differed from the reference by more than "
                f"{_points(windows, feature)} in {len(flagged)} of {len(windows)} windows "
                f"({flagged[0].result.label} first, {flagged[-1].result.label} last); highest "
                f"{format_percent(share)} in {top.result.label}.")
    if not raised:
        view.quality.append("No feature's share of missing values differed from the "
                            "reference by more than the drift threshold in any window.")
    if features:
        view.quality_figures.append(Figure(
            "Share of records with each feature missing, per window. Crosses mark windows whose "
            "missing share differs from the reference by more than the threshold.",
            _markup(plots.missing_figure(windows, features))))
    method = plots.drift_method(windows)
    if method is None:
        view.drift.append("No drift statistic is stored for these windows.")
        return
    svg, shown, threshold = plots.drift_figure(windows, method)
    name = method.upper() if method == "psi" else method.replace("_", " ")
    latest = windows[-1].result
    now = [r for r in latest.drift if r.method == method and r.drifted]
    if now:
        view.drift.append(f"In the latest window ({latest.label}) these features drifted "
                          f"({name} above {threshold:g}): " + join_words(
                              [f"{r.feature} ({name} {r.statistic:.2f})" for r in now]) + ".")
    else:
        view.drift.append(f"In the latest window ({latest.label}) no feature's {name} was "
                          f"above {threshold:g}.")
    for feature in shown:
        hits = [w for w in windows if any(r.feature == feature and r.method == method
                                          and r.drifted for r in w.result.drift)]
        if hits:
            view.drift.append(f"{feature} drifted in {len(hits)} of {len(windows)} windows, "
                              f"first in {hits[0].result.label}.")
    view.drift_figures.append(Figure(
        f"{name} of each feature (rows) in each window (columns) against the reference. A dot "
        f"marks a cell above {threshold:g}, the threshold at which the monitor calls a feature "
        "drifted.", _markup(svg)))


def _points(windows: list[StoredWindow], feature: str) -> str:
    threshold = next((r.threshold for w in windows for r in w.result.drift
                      if r.feature == feature and r.method == "missing_share"), None)
    return MISSING if threshold is None else f"{100 * threshold:g} percentage points"


def performance_section(view: View, spec: MonitorSpec, windows: list[StoredWindow],
                revisions: list[StoredWindow], timeline: plots.Timeline) -> None:
    """Performance and calibration over time, label maturity, the latest windows, revisions."""
    metrics = [m for m in spec.metrics
               if plots.series(windows, m) or plots.series(windows, f"estimated_{m}")]
    reference = windows[-1].result.reference_signals
    for metric in metrics:
        realised = plots.series(windows, metric)
        estimated = plots.series(windows, f"estimated_{metric}")
        title = metric_title(metric)
        caption = (f"{title} per window with its 95% CI; the dotted line is the reference "
                   "(validation) value; grey bands: outcomes not yet complete.")
        if estimated is not None:
            caption += (" Dashed, with its band: estimated without labels from the scores "
                        "alone (confidence-based estimation).")
        view.performance_figures.append(Figure(caption, _markup(plots.metric_svg(
            timeline, title=title, realised=realised, estimated=estimated,
            reference=_value(reference.get(metric))))))
    immature = [w for w in windows if (w.result.label_maturity or 0.0) < 1.0]
    if immature:
        view.performance.append(
            f"{len(immature)} of {len(windows)} windows (from {immature[0].result.label}) have "
            f"outcomes not yet complete: their {spec.outcome_window} outcome window had not "
            "closed for every prediction as of the report date. Values measured there use "
            "only the outcomes known by then and can change when late outcomes arrive.")
    undefined = [w for w in windows if any(m in w.result.undefined for m in metrics)]
    if undefined:
        view.performance.append(
            f"In {len(undefined)} windows at least one metric could not be measured; for "
            f"example {undefined[-1].result.label}: "
            f"{next(iter(undefined[-1].result.undefined.values()))}.")
    shown = windows[-TABLE_WINDOWS:]
    columns = [(m, metric_title(m)) for m in metrics if plots.series(windows, m)]
    columns += [(f"estimated_{m}", f"{metric_title(m)} (no labels)")
                for m in metrics if plots.series(windows, f"estimated_{m}")]
    view.table_head = ["Window", "Predictions", "Outcomes known", "Mature",
                       *(t for _, t in columns), "Status"]
    view.table_rows = [
        [w.result.label, format_count(w.result.n), format_count(w.result.n_labelled),
         format_percent(w.result.label_maturity, 0),
         *(interval(w.result.signals.get(m)) for m, _ in columns),
         _STATUS.get(w.status, (w.status,))[0]] for w in reversed(shown)]
    by_window: dict[datetime, list[StoredWindow]] = {}
    for w in revisions:
        by_window.setdefault(w.result.window_start, []).append(w)
    revised = [found for found in by_window.values() if len(found) > 1]
    key = [m for m in metrics if plots.series(windows, m)][:2]
    view.revision_head = ["Window", "Revisions", "Outcomes known: first → latest",
                          *(f"{metric_title(m)}: first → latest" for m in key)]
    view.revisions = [
        [found[-1].result.label, str(len(found)),
         f"{format_count(found[0].result.n_labelled)} → "
         f"{format_count(found[-1].result.n_labelled)}",
         *(f"{_or_not_yet(found[0], m)} → {_or_not_yet(found[-1], m)}" for m in key)]
        for found in revised]
    view.performance.append(
        f"{len(revised)} window{' was' if len(revised) == 1 else 's were'} revised when "
        "late outcomes arrived; the plots and tables show each window's latest revision."
        if revised else "No window has been revised: every window's values are as first "
                        "computed.")


def _or_not_yet(window: StoredWindow, metric: str) -> str:
    estimate = window.result.signals.get(metric)
    return interval(estimate) if estimate is not None else "not measurable"


def fairness_section(view: View, windows: list[StoredWindow], timeline: plots.Timeline) -> None:
    """Each subgroup metric per group over time, and the latest window's table."""
    metrics = list(dict.fromkeys(t.metric for w in windows for t in w.result.subgroups))
    if not metrics:
        view.fairness.append("No subgroup results are stored for these windows (the monitor "
                             "names no groups, or too few outcomes were known).")
        return
    latest = next(w.result for w in reversed(windows) if w.result.subgroups)
    tables = {t.metric: t for t in latest.subgroups}
    small = next(t.small_cell_threshold for w in windows for t in w.result.subgroups)
    suppressed_text = f"suppressed: fewer than {small} patients"
    for metric in metrics:
        groups, overall = plots.subgroup_series(windows, metric)
        view.fairness_figures.append(Figure(
            f"{metric_title(metric)} per group and window with its 95% CI band; the dotted "
            f"line is all patients. Gaps are windows where a group's value is not shown "
            f"({suppressed_text}) or not defined.",
            _markup(plots.subgroup_svg(timeline, title=f"{metric_title(metric)} by group",
                                       groups=groups, overall=overall,
                                       percent=metric == "flag_rate"))))
    hidden = Counter(f"{r.group}={r.group_value}" for w in windows for t in w.result.subgroups
                     if t.metric == metrics[0] for r in t.rows if r.suppressed)
    for group, n in hidden.items():
        view.fairness.append(f"{group}: {suppressed_text} in {n} of {len(windows)} windows; "
                             "its values are not shown.")
    view.fairness.append(
        f"The table gives the latest window with outcomes ({latest.label}). The ratio "
        "compares a group with all patients; ratios outside "
        f"{FAIRNESS_BAND[0]:.2f}–{FAIRNESS_BAND[1]:.2f} are marked “outside band” (a "
        "screening band, τ = 0.25; it ignores the width of the CIs).")
    view.fairness_head = ["Group", *(h for m in metrics for h in (
        metric_title(m), f"{metric_title(m)}: ratio to all"))]
    names = list(dict.fromkeys(f"{r.group}={r.group_value}" for t in latest.subgroups
                               for r in t.rows if r.group is not None))
    for name in names:
        cells = [name]
        for metric in metrics:
            table = tables.get(metric)
            rows = {f"{r.group}={r.group_value}": r for r in table.rows} if table else {}
            row = rows.get(name)
            everyone = next((r for r in table.rows if r.group is None), None) if table else None
            if row is None or row.suppressed:
                cells += [suppressed_text if row is not None else MISSING, MISSING]
                continue
            if row.value is None:
                cells += [row.reason or MISSING, MISSING]
                continue
            cells.append(format_interval(row))
            base = everyone.value if everyone is not None else None
            if base:
                ratio = row.value / base
                inside = FAIRNESS_BAND[0] <= ratio <= FAIRNESS_BAND[1]
                cells.append(f"{ratio:.2f}{'' if inside else ' (outside band)'}")
            else:
                cells.append(MISSING)
        view.fairness_rows.append(cells)


def alerts_section(view: View, spec: MonitorSpec, found: list[Alert], live: list[Alert],
           deliveries: list[dict[str, Any]]) -> None:
    """The alerts table and the delivery log summary."""
    for alert in sorted(found, key=lambda a: (a not in live, a.first_window_start)):
        notes = []
        if alert.escalated_at is not None:
            notes.append(f"escalated {alert.escalated_at.date()}")
        if alert.snoozed_until is not None and alert.state == "snoozed":
            notes.append(f"snoozed until {alert.snoozed_until.date()}")
        if alert.resolved_at is not None:
            notes.append(f"resolved {alert.resolved_at.date()}")
        span = alert.first_window_start.date().isoformat()
        if alert.last_window_start != alert.first_window_start:
            span += f" to {alert.last_window_start.date()}"
        view.alerts.append([alert.rule, alert.severity, alert.state,
                            alert.opened_at.date().isoformat(), span, alert_title(alert.title),
                            "; ".join(notes)])
    messages: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for attempt in deliveries:
        messages.setdefault((attempt["notifier"], attempt["subject"]), []).append(attempt)
    sent = sum(1 for tries in messages.values() if tries[-1]["ok"])
    failed = sum(1 for tries in messages.values() for t in tries if not t["ok"])
    view.delivery_summary = (
        f"{len(messages)} message{'' if len(messages) == 1 else 's'}: {sent} delivered, "
        f"{len(messages) - sent} not delivered; {failed} of {len(deliveries)} delivery "
        "attempts failed (retries included)." if messages
        else "No notification has been sent for this monitor.")
    view.deliveries = [
        [notifier, subject, str(len(tries)), "delivered" if tries[-1]["ok"] else "not delivered",
         tries[-1]["at"].strftime("%Y-%m-%d %H:%M"), next(
             (t["error"] for t in reversed(tries) if t["error"]), "")]
        for (notifier, subject), tries in messages.items()]


def reading_notes(spec: MonitorSpec, assumption: str | None) -> list[str]:
    """How to read the report."""
    text = [
        "Every measured value is shown with its 95% confidence interval (CI) in brackets, "
        "“0.781 (0.762–0.799)”. Windows hold few predictions, so intervals are wide; a single "
        "window outside the reference value is weaker evidence than a run of them, which is "
        "what the sequential (CUSUM, Page–Hinkley) rules look for.",
        f"Outcomes arrive late: a prediction's outcome is known only after its "
        f"{spec.outcome_window} outcome window closes and the outcome is recorded. Recent "
        "windows are therefore measured on part of their outcomes (grey in the plots) and are "
        "re-measured, as a new revision, when late outcomes arrive.",
    ]
    if assumption:
        text.append("Values “estimated without labels” (confidence-based performance "
                    "estimation) use the scores alone. " + assumption)
    text.append(f"Groups with fewer than {spec.small_cell} patients in a window are "
                "suppressed: neither their values nor their counts are shown.")
    text.append("This report records what was measured, in which windows and with what "
                "uncertainty. It does not show that the model is safe or free of bias; "
                "whether the findings call for action is a judgement for the people "
                "responsible for the model's use.")
    return text


def _markup(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)
