"""The "Robustness" section of the HTML report: stress tests and metamorphic tests.

A stress test shows its degradation curve (the metric against the perturbation's strength,
with its interval band, and the value on the data as given) and a table of the drops; a
metamorphic test shows its result in one sentence. Built from the Run's stored results alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.reports import _plots
from assay.reports._format import MISSING, format_bounds, format_count, metric_title

if TYPE_CHECKING:
    from assay.checks import CheckResult, Run
    from assay.robustness import DegradationCurve

__all__ = ["RobustnessPart", "degradation_svg", "robustness_parts"]


@dataclass(frozen=True)
class RobustnessPart:
    """One robustness or metamorphic check as the report shows it."""

    anchor: str
    title: str
    status: str
    sentence: str
    plot: Any
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


def degradation_svg(curve: DegradationCurve, *, slug: str) -> str:
    """The metric against the perturbation's strength, with its interval band; the dashed
    line is the metric on the data as given."""
    title = metric_title(curve.metric)
    rows = [r for r in curve.rows if r.value is not None]
    xs = [r.strength for r in rows]
    values = [float(r.value) for r in rows if r.value is not None]
    lows = [r.ci_low if r.ci_low is not None else v for r, v in zip(rows, values, strict=True)]
    highs = [r.ci_high if r.ci_high is not None else v for r, v in zip(rows, values, strict=True)]
    field = curve.perturbation.strength_field.replace("_", " ")
    with _plots._figure((6.4, 3.6)) as (figure, axes):
        axes.fill_between(xs, lows, highs, color=_plots.COLOURS["band"], alpha=0.3,
                          linewidth=0, label=f"{round(curve.level * 100)}% CI")
        axes.plot(xs, values, marker="o", markersize=4, color=_plots.COLOURS["model"],
                  label=f"{title} with the perturbation")
        axes.axhline(curve.baseline.value, color=_plots.COLOURS["reference"], linestyle="--",
                     linewidth=1.0, label=f"On the data as given: {curve.baseline.value:.3f}")
        axes.set_xlabel(f"{curve.perturbation.kind.replace('_', ' ')}: {field}")
        axes.set_ylabel(title)
        axes.set_title(f"{title} under {curve.perturbation.kind.replace('_', ' ')}")
        figure.legend(loc="outside lower center", ncols=3)
        return _plots._svg(
            figure, slug=slug, title=f"{title} under {curve.perturbation.describe()}",
            description=f"{title} at each strength of the perturbation with its interval "
                        f"band; the dashed line is {title} on the data as given.")


def _curve_rows(curve: DegradationCurve) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    checked = curve.perturbation.strength
    for row in curve.rows:
        value = format_bounds(row.value, row.ci_low, row.ci_high)
        drop = format_bounds(row.drop, row.drop_ci_low, row.drop_ci_high)
        strength = f"{row.strength:g}" + (" (checked)" if row.strength == checked else "")
        rows.append((strength, format_count(row.n), value,
                     drop if row.drop is not None else (row.reason or MISSING)))
    return rows


def _checked_words(curve: DegradationCurve) -> str:
    """The metric as given and at the checked strength, and the drop, in one sentence."""
    title = metric_title(curve.metric)
    row = curve.row_at(curve.perturbation.strength)
    if row.value is None or row.drop is None:
        return f"{title} could not be evaluated with {row.perturbation}: {row.reason}"
    drop = format_bounds(row.drop, row.drop_ci_low, row.drop_ci_high, level=curve.level)
    return (f"{title} was {curve.baseline.value:.3f} on the data as given and "
            f"{row.value:.3f} with {row.perturbation}: a drop of {drop} on the same "
            f"{format_count(row.n)} patients (a positive drop is a worse value)")


def robustness_parts(run: Run) -> list[RobustnessPart]:
    """One part per robustness or metamorphic check with a result, in the plan's order."""
    parts = []
    for index, result in enumerate(run.results):
        anchor = f"robustness-{index}"
        if result.robustness is not None:
            from markupsafe import Markup

            curve = result.robustness
            parts.append(RobustnessPart(
                anchor=anchor, title=result.title, status=result.status,
                sentence=_sentence(result, _checked_words(curve)),
                plot=Markup(degradation_svg(curve, slug=anchor)),
                columns=(curve.perturbation.strength_field.replace("_", " ").capitalize(), "n",
                         f"{metric_title(curve.metric)} (CI)", "Drop (CI)"),
                rows=_curve_rows(curve)))
        elif result.metamorphic is not None:
            parts.append(RobustnessPart(
                anchor=anchor, title=result.title, status=result.status,
                sentence=_sentence(result, result.metamorphic.summary()), plot=None,
                columns=(), rows=[]))
    return parts


def _sentence(result: CheckResult, summary: str) -> str:
    verdict = {"pass": "meets", "warn": "meets, with a warning,", "fail": "does not meet"}
    if result.status not in verdict:
        return result.reason
    return f"{summary.rstrip('.')}. This {verdict[result.status]} the plan's condition " \
           f"'{result.condition}'."
