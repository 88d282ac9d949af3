"""Plots of stored curves as small, self-contained, reproducible SVG strings.

Each function takes a :class:`~assay.metrics.Curve` from a Run and returns the SVG text of one
figure, ready to be inlined in HTML. Nothing is recomputed: the functions draw the stored
columns. Figures are built as ``matplotlib.figure.Figure`` objects (never through pyplot), with
one style applied in an ``rc_context`` so that no matplotlib state outlives the call, and a
fixed ``svg.hashsalt`` with no date so the same curve always gives the same bytes.

The SVG is cleaned for inlining: no XML prologue or metadata (which name external URLs), no
fixed size (CSS scales it), ids made unique per figure, and a ``<title>``/``<desc>`` pair with
``role="img"`` so that screen readers announce what the figure shows.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from assay.errors import MissingExtraError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from assay.metrics import Curve

__all__ = ["ForestRow", "calibration_svg", "decision_svg", "forest_svg", "pr_svg", "roc_svg"]

MAX_POINTS = 400
"""Most points drawn per line; longer curves are thinned evenly (ends kept)."""

COLOURS = {"model": "#0072B2", "band": "#56B4E9", "reference": "#6b6b6b",
           "points": "#D55E00", "treat_all": "#E69F00", "treat_none": "#222222"}
"""Okabe–Ito colours, distinguishable with common colour-vision deficiencies; every line
also differs by style so that the plots read in greyscale print."""

_STYLE: dict[str, Any] = {
    "svg.hashsalt": "assay-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial"],
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9.0,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "path.simplify": True,
}
_FIGSIZE = (5.0, 4.5)


def column(curve: Curve, name: str) -> list[float]:
    """One column of a curve as floats, with NaN where the value is undefined (``None``).

    Raises
    ------
    ValueError
        naming the curve kind and the columns it has, when ``name`` is not among them.
    """
    try:
        values = curve.columns[name]
    except KeyError:
        have = ", ".join(curve.columns)
        raise ValueError(f"the {curve.kind} curve has no column {name!r} (it has {have})") from None
    return [math.nan if v is None else float(v) for v in values]


def _thin(*columns: list[float]) -> list[list[float]]:
    length = len(columns[0])
    if length <= MAX_POINTS:
        return list(columns)
    step = (length - 1) / (MAX_POINTS - 1)
    keep = sorted({round(i * step) for i in range(MAX_POINTS)})
    return [[c[i] for i in keep] for c in columns]


@contextmanager
def _figure(figsize: tuple[float, float] = _FIGSIZE) -> Iterator[tuple[Figure, Axes]]:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("report", "matplotlib") from exc
    with matplotlib.rc_context(cast(Any, _STYLE)):
        figure = Figure(figsize=figsize, layout="constrained")
        yield figure, figure.add_subplot()


def _svg(figure: Figure, *, slug: str, title: str, description: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return clean_svg(buffer.getvalue(), slug=slug, title=title, description=description)


_ID = re.compile(r'\sid="([^"]+)"')
_REFERENCE = re.compile(r'(?:href="#|url\(#)([^")]+)')


def clean_svg(svg: str, *, slug: str, title: str, description: str) -> str:
    """Make matplotlib's SVG fit for inlining in an HTML page.

    Drops the XML prologue, doctype and metadata, the fixed width and height (the viewBox
    stays), and every id that nothing refers to; prefixes the remaining ids with ``slug`` so
    several figures can share a page; adds an accessible ``<title>`` and ``<desc>``.
    """
    from html import escape

    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    referenced = set(_REFERENCE.findall(svg))

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        return f' id="{slug}-{name}"' if name in referenced else ""

    svg = _ID.sub(rename, svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{slug}-{m.group(2)}", svg)
    head_end = svg.index(">") + 1
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    head = head.replace(
        "<svg ", f'<svg role="img" aria-labelledby="{slug}-title {slug}-desc" ', 1)
    labels = (f'\n <title id="{slug}-title">{escape(title)}</title>'
              f'\n <desc id="{slug}-desc">{escape(description)}</desc>')
    return head + labels + svg[head_end:].rstrip() + "\n"


def _unit_axes(axes: Axes, xlabel: str, ylabel: str) -> None:
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.03)  # room for markers and error bars at 0 and 1
    axes.set_aspect("equal")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)


def roc_svg(curve: Curve, *, score: str, auroc: str | None) -> str:
    """ROC curve: sensitivity against 1 − specificity, with the chance diagonal.

    Parameters
    ----------
    curve
        A ``roc`` curve with columns ``fpr`` and ``tpr``.
    score
        The score's name, for the title.
    auroc
        The AUROC with its interval, already formatted (shown in the legend), or ``None``.
    """
    fpr, tpr = _thin(column(curve, "fpr"), column(curve, "tpr"))
    label = f"AUROC {auroc}" if auroc else score
    with _figure() as (figure, axes):
        axes.plot([0, 1], [0, 1], color=COLOURS["reference"], linestyle=":", linewidth=1.0,
                  label="No discrimination")
        axes.plot(fpr, tpr, color=COLOURS["model"], label=label, drawstyle="default")
        _unit_axes(axes, "1 − specificity (false-positive rate)",
                   "Sensitivity (true-positive rate)")
        axes.set_title(f"ROC curve: {score}")
        axes.legend(loc="lower right")
        return _svg(figure, slug=f"roc-{_slug(score)}", title=f"ROC curve of {score}",
                    description=f"Sensitivity against 1 − specificity over all thresholds of "
                                f"{score} (n = {curve.n:,}). {label}.")


def pr_svg(curve: Curve, *, score: str, summary: str | None) -> str:
    """Precision–recall curve: PPV against sensitivity, with the prevalence baseline.

    Parameters
    ----------
    curve
        A ``pr`` curve with columns ``recall`` and ``precision``.
    score
        The score's name, for the title.
    summary
        The AUPRC (average precision) with its interval, formatted, or ``None``.
    """
    recall, precision = _thin(column(curve, "recall"), column(curve, "precision"))
    label = f"AUPRC {summary}" if summary else score
    with _figure() as (figure, axes):
        axes.plot(recall, precision, color=COLOURS["model"], label=label)
        baseline = ""
        if curve.n_events is not None and curve.n > 0:
            prevalence = curve.n_events / curve.n
            baseline = f" The dotted line is the prevalence, {prevalence:.1%}."
            axes.axhline(prevalence, color=COLOURS["reference"], linestyle=":", linewidth=1.0,
                         label=f"Prevalence {prevalence:.1%} (no discrimination)")
        _unit_axes(axes, "Sensitivity (recall)", "PPV (precision)")
        axes.set_title(f"Precision–recall curve: {score}")
        axes.legend(loc="upper right")
        return _svg(figure, slug=f"pr-{_slug(score)}", title=f"Precision–recall curve of {score}",
                    description=f"Positive predictive value against sensitivity over all "
                                f"thresholds of {score} (n = {curve.n:,}). {label}.{baseline}")


def calibration_svg(
    calibration: Curve | None, reliability: Curve | None, *, score: str,
    level: float | None,
) -> str:
    """Calibration: observed event rate against predicted risk.

    Draws the smoothed calibration curve with its confidence band, the reliability points
    (mean predicted risk and observed rate per bin) with Wilson error bars, and the diagonal of
    perfect calibration.

    Parameters
    ----------
    calibration
        A ``calibration`` curve (``predicted``, ``observed``, ``observed_low``,
        ``observed_high``), or ``None``.
    reliability
        A ``reliability`` curve (``predicted``, ``observed``, ``observed_low``,
        ``observed_high``), or ``None``.
    score
        The score's name, for the title.
    level
        Confidence level of the band and error bars, for the legend.
    """
    ci = f"{100 * level:.10g}% CI" if level is not None else "CI"
    with _figure() as (figure, axes):
        axes.plot([0, 1], [0, 1], color=COLOURS["reference"], linestyle=":", linewidth=1.0,
                  label="Perfect calibration")
        if calibration is not None:
            x, y, low, high = _thin(*(column(calibration, c) for c in (
                "predicted", "observed", "observed_low", "observed_high")))
            axes.fill_between(x, low, high, color=COLOURS["band"], alpha=0.3, linewidth=0,
                              label=f"Smoothed curve, {ci} band")
            axes.plot(x, y, color=COLOURS["model"], label="Smoothed calibration curve")
        if reliability is not None:
            x, y, low, high = (column(reliability, c) for c in (
                "predicted", "observed", "observed_low", "observed_high"))
            below = [max(v - lo, 0.0) for v, lo in zip(y, low, strict=True)]
            above = [max(hi - v, 0.0) for v, hi in zip(y, high, strict=True)]
            axes.errorbar(x, y, yerr=[below, above], fmt="o", markersize=4.5,
                          color=COLOURS["points"], ecolor=COLOURS["points"], elinewidth=1.0,
                          capsize=2.5, label=f"Observed rate per bin, Wilson {ci}")
        _unit_axes(axes, "Predicted risk", "Observed event rate")
        axes.set_title(f"Calibration: {score}")
        axes.legend(loc="upper left")
        return _svg(figure, slug=f"calibration-{_slug(score)}",
                    title=f"Calibration of {score}",
                    description="Observed event rate against predicted risk; points on the "
                                "dotted diagonal would mean predicted risks match observed "
                                "rates.")


def decision_svg(curve: Curve, *, score: str) -> str:
    """Decision curve: net benefit of the model, of treating all and of treating none.

    Parameters
    ----------
    curve
        A ``decision`` curve with columns ``threshold``, ``model``, ``treat_all``,
        ``treat_none``.
    score
        The score's name, for the title.
    """
    threshold, model, treat_all, treat_none = _thin(*(column(curve, c) for c in (
        "threshold", "model", "treat_all", "treat_none")))
    top = max((v for v in [*model, *treat_all] if math.isfinite(v)), default=0.1)
    top = max(top, 0.01)
    with _figure() as (figure, axes):
        axes.plot(threshold, model, color=COLOURS["model"], label=f"Using {score}")
        axes.plot(threshold, treat_all, color=COLOURS["treat_all"], linestyle="--",
                  label="Treat all")
        axes.plot(threshold, treat_none, color=COLOURS["treat_none"], linestyle=":",
                  linewidth=1.2, label="Treat none")
        axes.set_xlim(_finite_range(threshold))
        axes.set_ylim(-0.25 * top, 1.1 * top)
        axes.set_xlabel("Threshold probability")
        axes.set_ylabel("Net benefit")
        axes.set_title(f"Decision curve: {score}")
        axes.legend(loc="upper right")
        return _svg(figure, slug=f"decision-{_slug(score)}", title=f"Decision curve of {score}",
                    description=f"Net benefit of acting on {score} at each threshold "
                                "probability, compared with treating every patient and with "
                                "treating none.")


class ForestRow(NamedTuple):
    """One line of a forest plot: a label, and a value with its bounds or a note instead."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


def forest_svg(rows: Sequence[ForestRow], *, score: str, metric: str = "AUROC",
               overall: float | None = None, overall_text: str | None = None,
               band: tuple[float, float] | None = None, reference_label: str | None = None,
               clip: tuple[float, float] = (0.0, 1.0), slug: str | None = None,
               xlabel: str | None = None) -> str:
    """Forest plot: one metric by group, a point and an interval bar per group.

    Parameters
    ----------
    rows
        The groups from top to bottom. A row without a value is listed on the axis with its
        ``note`` (for example "suppressed") and gets no marker.
    score
        The score's name, for the title.
    metric
        The metric's title, for the axis and the title.
    overall
        The metric on all patients, drawn as a vertical reference line, or ``None``.
    overall_text
        The overall value with its interval, formatted, for the legend and description.
    band
        A band to shade (a fairness band of ratios), or ``None``.
    reference_label
        The legend's words for the dashed line, when it is not "All patients".
    clip
        The axis never extends beyond these limits (a proportion lies in 0–1).
    slug
        A page-unique name for the plot's element ids; default from the score.
    xlabel
        The axis label; default the metric's title.
    """
    labels = [r.label if r.value is not None else f"{r.label}: {r.note or 'not defined'}"
              for r in rows]
    ys = list(range(len(rows)))[::-1] if rows else []
    drawn = [(y, r) for y, r in zip(ys, rows, strict=True) if r.value is not None]
    finite = [v for _, r in drawn for v in (r.value, r.low, r.high)
              if v is not None and math.isfinite(v)]
    if overall is not None:
        finite.append(overall)
    if band is not None:
        finite.extend(band)
    low = max(clip[0], min(finite, default=0.5) - 0.05)
    high = min(clip[1], max(finite, default=0.5) + 0.05)
    height = 1.3 + 0.3 * max(len(rows), 1)
    with _figure((6.4, height)) as (figure, axes):
        if band is not None:
            axes.axvspan(band[0], band[1], color=COLOURS["band"], alpha=0.35, linewidth=0,
                         label=f"Band {band[0]:.2f}–{band[1]:.2f}")
        if overall is not None:
            label = reference_label or (f"All patients: {overall_text}" if overall_text
                                        else "All patients")
            axes.axvline(overall, color=COLOURS["reference"], linestyle="--", linewidth=1.0,
                         label=label)
        for y, r in drawn:
            if (r.low is not None and r.high is not None
                    and math.isfinite(r.low) and math.isfinite(r.high)):
                axes.plot([r.low, r.high], [y, y], color=COLOURS["model"], linewidth=1.6,
                          solid_capstyle="butt")
            axes.plot([float(r.value or 0.0)], [y], marker="s", markersize=5.5,
                      linestyle="none", color=COLOURS["model"])
        axes.set_yticks(ys, labels)
        axes.set_ylim(-0.7, len(rows) - 0.3)
        axes.set_xlim(low - 0.01, high + 0.01)
        axes.grid(axis="y", visible=False)
        axes.set_xlabel(xlabel or f"{metric} (point and interval per group)")
        axes.set_title(f"{metric} by group: {score}")
        if overall is not None or band is not None:
            figure.legend(loc="outside lower center", ncols=2)
        shown = len(drawn)
        reference = (f" The dashed line is the {metric} of all patients, {overall_text}."
                     if overall is not None and overall_text else "")
        if band is not None:
            reference += f" The shaded band runs from {band[0]:.2f} to {band[1]:.2f}."
        return _svg(figure, slug=slug or f"forest-{_slug(score)}",
                    title=f"{metric} of {score} by group",
                    description=f"{metric} with its interval for {shown} of {len(rows)} "
                                f"groups; groups without a value are listed without a "
                                f"marker.{reference}")


def _finite_range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    low, high = min(finite), max(finite)
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "score"
