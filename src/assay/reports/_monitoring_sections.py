"""The sections of the monitoring report: the formatted view the template lays out and the
builders that fill it (volume, data quality and drift, performance, fairness over time, alerts
and their delivery, reading notes), each from the stored windows and alerts alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assay.reports import _monitoring_plots as plots
from assay.reports._format import (
    MISSING,
    format_count,
    format_interval,
    format_percent,
    metric_title,
)
from assay.reports._words import join_words

if TYPE_CHECKING:
    from assay.metrics import Estimate
    from assay.monitoring import Alert, MonitorSpec, StoredWindow

__all__ = [
    "CONTENTS", "FAIRNESS_BAND", "TABLE_WINDOWS", "Figure", "View", "alert_title", "alerts_section",
    "fairness_section", "interval", "performance_section", "quality_section", "reading_notes",
    "volume_section",
]

TABLE_WINDOWS = 12
"""The per-window performance table lists this many latest windows (the plots show all)."""
FAIRNESS_BAND = (0.8, 1.25)
"""Ratio of a group's value to all patients' outside which the fairness table marks it
(Seismometer's default, τ = 0.25)."""
CONTENTS = [("status", "Status"), ("volume", "Volume and flag rate"),
            ("quality", "Data quality"), ("drift", "Drift"),
            ("performance", "Performance and calibration"), ("fairness", "Fairness over time"),
            ("alerts", "Alerts and actions"), ("reading", "How to read this report")]
"""The sections of a predictive model's report, in order: ``(anchor, heading)``."""
_STATUS = {"green": ("GREEN", "pass", "✓"), "amber": ("AMBER", "warn", "!"),
           "red": ("RED", "fail", "✗")}


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
    estimates_in_use: bool = False
    """The latest window still lacks outcomes, so label-free estimates stand in."""
    contents: list[tuple[str, str]] = field(default_factory=lambda: list(CONTENTS))
    """The sections shown, in order: ``(anchor, heading)``."""
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
    flags: list[str] = field(default_factory=list)
    flag_figures: list[Figure] = field(default_factory=list)
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


def interval(estimate: Estimate | None) -> str:
    """``0.781 (0.762–0.799)`` or a dash."""
    return format_interval(estimate) if estimate is not None else MISSING


def _value(estimate: Estimate | None) -> float | None:
    return None if estimate is None else estimate.value


def _markup(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)


def alert_title(title: str) -> str:
    """An alert's stored title with metric and method names in the report's words."""
    first, _, rest = title.partition(" ")
    words = {"cusum": "CUSUM", "page_hinkley": "Page–Hinkley", "psi": "PSI"}
    for key, word in words.items():
        rest = rest.replace(f"({key},", f"({word},").replace(f"({key} ", f"({word} ")
    return f"{metric_title(first) if '_' in first or first.islower() else first} {rest}"


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
