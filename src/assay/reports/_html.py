"""The self-contained HTML report of a Run.

The report is drawn from the Run alone (nothing is recomputed from data): a view of the run is
built here as plain, already formatted values, and a Jinja template lays it out. The page has
inline CSS and inline SVG plots, no scripts and no external references, so it can be archived,
e-mailed or printed as one file; the same Run always renders to the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from assay.errors import MissingExtraError
from assay.reports import _plots
from assay.reports._data import DataSection, data_section
from assay.reports._fairness import FairnessPart, fairness_intro, fairness_parts
from assay.reports._format import (
    MISSING,
    format_bounds,
    format_count,
    format_interval,
    format_level,
    format_percent,
    format_threshold,
    format_value,
    metric_title,
    p_value_text,
)
from assay.reports._groups import GroupSection, group_section
from assay.reports._robustness import RobustnessPart, robustness_parts
from assay.reports._segments import SegmentPart, segment_parts
from assay.reports._words import (
    PLOT_CAPTIONS,
    STATUS_LABELS,
    STATUS_SYMBOLS,
    check_sentence,
    counts_sentence,
    intro_sentences,
    method_name,
    reading_notes,
    threshold_notes,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from assay.checks import CheckResult, MetricRecord, Run, ScoreSummary
    from assay.metrics import Curve, PairedComparison

__all__ = ["render_html"]

_THRESHOLD_METRICS = ("sensitivity", "specificity", "ppv", "npv")


@dataclass(frozen=True)
class Status:
    """A status as a badge: class name, text and a symbol (never colour alone)."""

    key: str
    label: str
    symbol: str
    count: int = 0


@dataclass(frozen=True)
class CheckRow:
    """One row of the checks table."""

    status: Status
    title: str
    id: str
    pair: str
    estimate: str
    condition: str | None
    warning: str | None
    reason: str


@dataclass(frozen=True)
class Plot:
    """One inline SVG figure with its caption."""

    caption: str
    svg: Any


@dataclass(frozen=True)
class MetricRow:
    """One row of a score's metric table."""

    metric: str
    threshold: str
    value: str
    method: str
    n: str
    status: str
    reason: str


@dataclass(frozen=True)
class ThresholdRow:
    """One row of a score's threshold table; ``cells`` follow ``THRESHOLD_COLUMNS``."""

    threshold: str
    named: str
    cells: tuple[str, ...]


THRESHOLD_COLUMNS = ("Flagged (n)", "Flag rate", "Sensitivity", "Specificity", "PPV", "NPV")


@dataclass(frozen=True)
class ScoreSection:
    """Everything the report shows about one score."""

    name: str
    anchor: str
    probability: bool
    range_text: str
    plots: list[Plot]
    notes: list[str]
    thresholds: list[ThresholdRow]
    metrics: list[MetricRow]
    groups: GroupSection | None = None


@dataclass(frozen=True)
class ComparisonRow:
    """One row of the comparisons table."""

    metric: str
    pair: str
    difference: str
    p_value: str
    method: str
    n: str


@dataclass(frozen=True)
class Report:
    """The formatted view of a Run the template lays out."""

    title: str
    assay_version: str
    run_status: Status
    has_checks: bool
    header: list[tuple[str, str, str]]
    intro: list[str]
    counts_sentence: str
    counts: list[Status]
    problems: list[str]
    warnings: list[str]
    skipped: list[str]
    thresholds: list[tuple[str, str, str]]
    checks: list[CheckRow]
    scores: list[ScoreSection]
    comparisons: list[ComparisonRow]
    fairness: list[tuple[Status, FairnessPart]] = field(default_factory=list)
    fairness_intro: list[str] = field(default_factory=list)
    robustness: list[tuple[Status, RobustnessPart]] = field(default_factory=list)
    segments: list[tuple[Status, SegmentPart]] = field(default_factory=list)
    reading: list[str] = field(default_factory=list)
    data: DataSection | None = None
    threshold_columns: tuple[str, ...] = THRESHOLD_COLUMNS
    css: Any = ""


def render_html(run: Run) -> str:
    """Render a Run as one self-contained HTML page.

    Parameters
    ----------
    run
        The run to report. Only its stored results are drawn; nothing is recomputed.

    Returns
    -------
    str
        The HTML text, with inline CSS and SVG, no scripts and no external references.

    Raises
    ------
    MissingExtraError
        when jinja2 or matplotlib is not installed (``pip install 'assay[report]'``).

    Examples
    --------
    Usually through the Run, which also writes the file::

        html = run.to_html("report.html")
    """
    from markupsafe import Markup

    environment = template_environment()
    css = resources.files("assay.reports").joinpath("templates/report.css").read_text("utf-8")
    view = build_report(run, css=Markup(css))
    return environment.get_template("report.html.j2").render(report=view)


@lru_cache(maxsize=4)
def template_environment(package: str = "assay.reports") -> Environment:
    """The Jinja environment of a package's ``templates`` folder (autoescaped, strict)."""
    try:
        import jinja2
    except ImportError as exc:
        raise MissingExtraError("report", "jinja2") from exc
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )


def _status(key: str, count: int = 0) -> Status:
    return Status(key=key, label=STATUS_LABELS[key], symbol=STATUS_SYMBOLS[key], count=count)


def build_report(run: Run, *, css: Any = "") -> Report:
    """Build the formatted view of a run (the template's only input)."""
    from assay.checks import STATUS_ORDER

    results = sorted(run.results, key=lambda r: STATUS_ORDER.index(r.status))
    return Report(
        title=f"{run.plan.name} (version {run.plan.version})",
        assay_version=run.assay_version,
        run_status=_status(run.status),
        has_checks=bool(run.results),
        header=_header(run),
        intro=intro_sentences(run),
        counts_sentence=counts_sentence(run.counts),
        counts=[_status(s, n) for s, n in run.counts.items()],
        problems=[check_sentence(run, r) for r in results if r.status in ("fail", "error")],
        warnings=[check_sentence(run, r) for r in results if r.status == "warn"],
        skipped=[check_sentence(run, r) for r in results if r.status == "skipped"],
        thresholds=threshold_notes(run),
        checks=[_check_row(r) for r in results],
        scores=[_score_section(run, s, i) for i, s in enumerate(_score_summaries(run))],
        comparisons=[_comparison_row(c) for c in run.comparisons],
        fairness=[(_status(part.status), part) for part in fairness_parts(run)],
        fairness_intro=fairness_intro(run),
        robustness=[(_status(part.status), part) for part in robustness_parts(run)],
        segments=[(_status(part.status), part) for part in segment_parts(run)],
        reading=reading_notes(run),
        data=data_section(run, _status),
        css=css,
    )


def _short(fingerprint: str) -> str:
    algorithm, _, digest = fingerprint.rpartition(":")
    return f"{algorithm + ':' if algorithm else ''}{digest[:12]}"


def _header(run: Run) -> list[tuple[str, str, str]]:
    data = run.data
    events = MISSING
    if data.n_events is not None and data.n:
        events = f"{format_count(data.n_events)} ({format_percent(data.n_events / data.n)})"
    date = run.started_at.strftime("%Y-%m-%d %H:%M %Z").strip() if run.started_at else (
        "not recorded")
    settings = run.plan.settings
    rows = [
        ("Plan", f"{run.plan.name}, version {run.plan.version}", ""),
        ("Data source", data.source, ""),
        ("Records (n)", format_count(data.n), ""),
        (f"Outcome “{run.roles.target}” (prevalence)", events, ""),
        ("Scores", ", ".join(run.roles.score), ""),
        ("Run date", date, ""),
        ("Confidence level", format_level(run.level), ""),
        ("Bootstrap", f"{format_count(settings.n_boot)} replicates, "
                      f"{settings.bootstrap_method}, seed {run.seed}", ""),
        ("Data fingerprint", _short(data.fingerprint), data.fingerprint),
        ("Plan fingerprint", _short(run.plan_fingerprint), run.plan_fingerprint),
        ("Assay version", run.assay_version, ""),
    ]
    if data.time_start and data.time_end:
        rows.insert(3, ("Period", f"{data.time_start[:10]} to {data.time_end[:10]}", ""))
    return rows


def _check_row(result: CheckResult) -> CheckRow:
    pair = ""
    if result.comparison is not None:
        c = result.comparison
        pair = f"difference {c.a} − {c.b}"
        estimate = format_bounds(c.difference, c.ci_low, c.ci_high)
    elif result.finding is not None:
        rows = result.finding.n_rows
        estimate = "—" if result.finding.rule == "target_leakage" else (
            f"{format_count(rows)} {'row' if rows == 1 else 'rows'}")
    else:
        estimate = format_interval(result.estimate)
    return CheckRow(status=_status(result.status), title=result.title, id=result.id,
                    pair=pair, estimate=estimate, condition=result.condition,
                    warning=result.warning, reason=result.reason)


def _score_summaries(run: Run) -> list[ScoreSummary]:
    return list(run.data.scores)


def _record(run: Run, score: str, names: tuple[str, ...]) -> MetricRecord | None:
    return next((r for r in run.overall_metrics if r.score == score and r.metric in names
                 and r.threshold is None and r.status == "ok"), None)


def _score_section(run: Run, summary: ScoreSummary, index: int) -> ScoreSection:
    from markupsafe import Markup

    name = summary.name
    curves = run.curves.get(name, {})
    plots: list[Plot] = []
    notes: list[str] = []
    if "roc" in curves:
        auroc = _record(run, name, ("auroc",))
        plots.append(Plot(PLOT_CAPTIONS["roc"], Markup(_plots.roc_svg(
            curves["roc"], score=name, auroc=format_interval(auroc) if auroc else None))))
    if "pr" in curves:
        ap = _record(run, name, ("auprc",))
        plots.append(Plot(PLOT_CAPTIONS["pr"], Markup(_plots.pr_svg(
            curves["pr"], score=name, summary=format_interval(ap) if ap else None))))
    bound = format_value if summary.probability else format_threshold
    range_text = f"{bound(summary.minimum)} to {bound(summary.maximum)}"
    if not summary.probability:
        notes.append(
            f"No calibration or decision curve is shown for {name}: its values run from "
            f"{range_text}, so they are not predicted probabilities of the outcome and cannot "
            "be compared with observed event rates. Metrics that need probabilities are "
            "listed below as skipped for the same reason.")
    else:
        if "calibration" in curves or "reliability" in curves:
            level = format_level(run.level)
            plots.append(Plot(PLOT_CAPTIONS["calibration"].format(level=level), Markup(
                _plots.calibration_svg(curves.get("calibration"), curves.get("reliability"),
                                       score=name, level=run.level))))
        else:
            notes.append(f"This run holds no calibration curve for {name}.")
        if "decision" in curves:
            plots.append(Plot(PLOT_CAPTIONS["decision"], Markup(_plots.decision_svg(
                curves["decision"], score=name))))
        else:
            notes.append(f"This run holds no decision curve for {name}.")
    table = curves.get("threshold")
    return ScoreSection(
        name=name, anchor=f"score-{index + 1}", probability=summary.probability,
        range_text=range_text, plots=plots, notes=notes,
        thresholds=_threshold_rows(table, _named_thresholds(run, name)) if table else [],
        metrics=[_metric_row(r) for r in run.overall_metrics if r.score == name],
        groups=group_section(run, summary),
    )


def _named_thresholds(run: Run, score: str) -> dict[str, float]:
    """The named thresholds that apply to ``score`` (a threshold lives on a score's scale)."""
    return {name: value for name, value in run.thresholds.items()
            if score in run.threshold_scores.get(name, ())}


def _threshold_rows(curve: Curve, named: dict[str, float]) -> list[ThresholdRow]:
    columns = curve.columns

    def value(name: str, i: int) -> float | None:
        values = columns.get(name)
        return None if values is None else values[i]

    rows = []
    for i, threshold in enumerate(columns["threshold"]):
        cells = [format_value(value("n_flagged", i), "n_flagged")]
        cells += [format_bounds(value(m, i), value(f"{m}_low", i), value(f"{m}_high", i))
                  for m in ("flag_rate", *_THRESHOLD_METRICS)]
        names = [n for n, t in named.items()
                 if threshold is not None and math.isclose(t, threshold)]
        rows.append(ThresholdRow(format_threshold(threshold), ", ".join(names), tuple(cells)))
    return rows


def _metric_row(record: MetricRecord) -> MetricRow:
    events = ""
    if record.n_events is not None:
        events = f" ({format_count(record.n_events)} event{'' if record.n_events == 1 else 's'})"
    return MetricRow(
        metric=metric_title(record.metric),
        threshold=format_threshold(record.threshold) if record.threshold is not None else "",
        value=format_interval(record) if record.status == "ok" else MISSING,
        method=method_name(record.method) if record.status == "ok" else MISSING,
        n=format_count(record.n) + events, status=record.status,
        reason=record.reason or "",
    )


def _comparison_row(c: PairedComparison) -> ComparisonRow:
    return ComparisonRow(
        metric=metric_title(c.metric), pair=f"{c.a} − {c.b}",
        difference=format_bounds(c.difference, c.ci_low, c.ci_high),
        p_value=p_value_text(c.p_value), method=method_name(c.method), n=format_count(c.n))
