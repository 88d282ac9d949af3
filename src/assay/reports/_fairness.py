"""The "Fairness" section of the HTML report: one part per fairness check of the plan.

Each part states the check's result in words, draws each metric's ratio to the reference with
its interval against the shaded band, and lists the groups in a table with the adjusted
p-value of the correction that decided a breach. Built from the Run's stored audits alone.

Small cells: a suppressed group shows only "suppressed: fewer than N patients"; the audits
carry no numbers for such groups in the first place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.reports import _plots
from assay.reports._format import (
    MISSING,
    format_bounds,
    format_count,
    format_p_value,
    metric_title,
)

if TYPE_CHECKING:
    from assay.checks import CheckResult, Run
    from assay.subgroups import DisparityRow, DisparityTable

__all__ = ["FairnessPart", "fairness_intro", "fairness_parts"]

BAND_WORDS = {
    "within": "within the band",
    "possible_breach": "possibly outside",
    "clear_breach": "outside the band",
    "undefined": "not judged",
    "suppressed": "suppressed",
}
CORRECTIONS = {"holm": "Holm", "bh": "Benjamini–Hochberg"}


@dataclass(frozen=True)
class FairnessRow:
    """One group of one metric, formatted; a suppressed row carries only its note."""

    label: str
    band_status: str
    band_words: str
    n: str = ""
    value: str = ""
    ratio: str = ""
    p_adjusted: str = ""
    note: str = ""


@dataclass(frozen=True)
class FairnessTable:
    """One metric of a criterion: its caption and rows."""

    metric: str
    caption: str
    rows: list[FairnessRow]


@dataclass(frozen=True)
class FairnessPart:
    """Everything the report shows for one fairness check."""

    anchor: str
    title: str
    status: str
    sentences: list[str]
    plots: list[Any]
    tables: list[FairnessTable]


def _label(text: str) -> str:
    return " × ".join(text.split("*"))


def _row(row: DisparityRow, table: DisparityTable) -> FairnessRow:
    words = BAND_WORDS[row.band_status]
    if row.band_status == "suppressed":
        return FairnessRow(label=_label(row.group_value), band_status="suppressed",
                           band_words=words, note=row.reason or "")
    adjusted = row.p_holm if table.correction == "holm" else row.p_bh
    return FairnessRow(
        label=_label(row.group_value), band_status=row.band_status, band_words=words,
        n=format_count(row.n) if row.n is not None else MISSING,
        value=format_bounds(row.value, None, None),
        ratio=format_bounds(row.ratio, row.ratio_ci_low, row.ratio_ci_high),
        p_adjusted=format_p_value(adjusted) if adjusted is not None else MISSING,
        note=row.reason or "",
    )


def _reference_words(table: DisparityTable) -> str:
    if table.reference_rule == "ideal":
        return "the ideal value 1"
    rule = {"largest": "the largest group", "best": "the best-performing group",
            "named": "the named reference group"}[table.reference_rule]
    return f"{_label(table.reference)} ({rule})"


def _plot(table: DisparityTable, result: CheckResult, index: int) -> Any:
    from markupsafe import Markup

    rows = []
    for row in table.rows:
        label = _label(row.group_value)
        if row.band_status == "suppressed":
            rows.append(_plots.ForestRow(label, None, note="suppressed"))
        elif row.ratio is None or row.band_status == "undefined":
            rows.append(_plots.ForestRow(label, None, note="not judged"))
        else:
            rows.append(_plots.ForestRow(label, row.ratio, row.ratio_ci_low, row.ratio_ci_high))
    if not any(r.value is not None for r in rows):
        return None
    title = metric_title(table.metric)
    return Markup(_plots.forest_svg(
        rows, score=result.score or "", metric=title, overall=1.0,
        reference_label=f"Equal to {_reference_words(table)}", band=table.band,
        clip=(0.0, 5.0), slug=f"fairness-{index}-{table.metric}",
        xlabel=f"Ratio of {title} to {_reference_words(table)}"))


def _sentences(result: CheckResult, tables: tuple[DisparityTable, ...]) -> list[str]:
    first = tables[0]
    low, high = first.band
    if first.reference_n is None:
        reference = "the ideal value 1"
    else:
        values = ", ".join(
            f"{metric_title(t.metric)} "
            f"{format_bounds(t.rows[0].reference_metric_value, None, None)}"
            for t in tables if t.rows and t.rows[0].reference_metric_value is not None)
        reference = (f"{_reference_words(first)}, {format_count(first.reference_n)} patients"
                     + (f" ({values})" if values else ""))
    return [
        f"{result.reason[0].upper()}{result.reason[1:]}.",
        f"Compared with {reference}; band [{low:.2f}, {high:.2f}]; "
        f"{CORRECTIONS[first.correction]} correction across {_tested(tables)} comparisons.",
    ]


def _tested(tables: tuple[DisparityTable, ...]) -> int:
    return max((sum(r.p_value is not None for r in t.rows) for t in tables), default=0)


def fairness_intro(run: Run) -> list[str]:
    """What the section shows and how to read a band status, once for all parts."""
    level = round(run.level * 100)
    return [
        "Each fairness check compares a metric across the groups of one column. Each group's "
        "value is divided by the reference's, and the ratio's "
        f"{level}% interval is set against the band of the check: inside the band, the "
        "group is within it; entirely outside, a breach, provided the difference from the "
        "reference stays significant after the multiplicity correction named below "
        "(otherwise a possible breach); an interval crossing an edge of the band is a "
        "possible breach.",
        "The band and its width are choices of the plan, not properties of the model. A "
        "group within the band shows no difference larger than the band on this data; it "
        "does not show that the model treats the groups alike. A possible breach in a small "
        "group usually means the group is too small to tell.",
    ]


def fairness_parts(run: Run) -> list[FairnessPart]:
    """One part per fairness check that produced an audit, in the plan's order."""
    parts = []
    for index, result in enumerate(run.results):
        audit = result.fairness
        if audit is None:
            continue
        tables = [
            FairnessTable(
                metric=metric_title(table.metric),
                caption=(f"{metric_title(table.metric)} by {_label(table.attribute)}, "
                         f"compared with {_reference_words(table)}; adjusted p-values by "
                         f"{CORRECTIONS[table.correction]}"),
                rows=[_row(row, table) for row in table.rows],
            )
            for table in audit.tables
        ]
        plots = [p for i, t in enumerate(audit.tables) if (p := _plot(t, result, index * 10 + i))]
        parts.append(FairnessPart(
            anchor=f"fairness-{index}", title=result.title, status=result.status,
            sentences=_sentences(result, audit.tables), plots=plots, tables=tables))
    return parts
