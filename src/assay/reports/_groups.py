"""The "By group" part of a score's section in the HTML report.

Built from the Run's group metric records alone. A few key metrics per group (AUROC; at the
first named threshold of the score sensitivity, PPV and flag rate; the observed/expected ratio
for probability scores) with their intervals, and a forest plot of each by group.

Small cells: the HTML report is a distributable output, so a group marked ``suppressed`` shows
no count and no number, whether or not the Run was prepared with ``for_distribution()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.reports import _plots
from assay.reports._format import (
    MISSING,
    format_count,
    format_interval,
    format_threshold,
    metric_title,
)

if TYPE_CHECKING:
    from assay.checks import MetricRecord, Run, ScoreSummary

__all__ = ["GroupRow", "GroupSection", "GroupTable", "group_section"]


@dataclass(frozen=True)
class GroupRow:
    """One group value: its size and one cell per column, or only the suppression note."""

    label: str
    suppressed: bool
    n: str
    cells: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class GroupTable:
    """One grouping (a column, or an intersection of columns) of one score."""

    grouping: str
    caption: str
    rows: list[GroupRow]


@dataclass(frozen=True)
class GroupSection:
    """Everything the "By group" part of a score's section shows."""

    sentences: list[str]
    columns: tuple[str, ...]
    tables: list[GroupTable]
    forests: list[tuple[Any, str]]
    """One forest plot per metric column, each with its caption."""


@dataclass(frozen=True)
class _Column:
    metric: str
    threshold: float | None
    title: str


def _label(text: str) -> str:
    return " × ".join(text.split("*"))


def _columns(run: Run, summary: ScoreSummary, records: list[MetricRecord]) -> list[_Column]:
    present = {(r.metric, r.threshold) for r in records}
    columns = [_Column("auroc", None, "AUROC")]
    named = [(k, v) for k, v in run.thresholds.items()
             if summary.name in run.threshold_scores.get(k, ())]
    if named:
        name, value = named[0]
        for metric in ("sensitivity", "ppv", "flag_rate"):
            columns.append(_Column(metric, value, f"{metric_title(metric)} at "
                                                  f"{format_threshold(value)} “{name}”"))
    if summary.probability:
        columns.append(_Column("oe_ratio", None, "O:E ratio"))
    return [c for c in columns if any(m == c.metric and _same(c.threshold, t)
                                      for m, t in present)]


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b)


def _find(records: list[MetricRecord], column: _Column) -> MetricRecord | None:
    return next((r for r in records
                 if r.metric == column.metric and _same(r.threshold, column.threshold)), None)


def _row(label: str, records: list[MetricRecord], columns: list[_Column],
         small: int) -> GroupRow:
    if any(r.suppressed for r in records):
        return GroupRow(label=label, suppressed=True, n="", cells=(),
                        note=f"suppressed: fewer than {small} patients")
    sized = next((r for r in records if r.metric == "auroc" and r.n is not None),
                 next((r for r in records if r.n is not None), None))
    n = MISSING
    if sized is not None and sized.n is not None:
        n = format_count(sized.n)
        if sized.n_events is not None and sized.metric == "auroc":
            n += f" ({format_count(sized.n_events)} event{'' if sized.n_events == 1 else 's'})"
    cells, notes = [], []
    for column in columns:
        record = _find(records, column)
        if record is None:
            cells.append(MISSING)
        elif record.status == "ok":
            cells.append(format_interval(record))
        else:
            cells.append(MISSING)
            reason = record.reason or record.status
            notes.append(reason if record.status == "empty" else f"{column.title}: {reason}")
    return GroupRow(label=label, suppressed=False, n=n, cells=tuple(cells),
                    note="; ".join(dict.fromkeys(notes)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _sentences(tables: list[GroupTable], small: int, score: str) -> list[str]:
    sizes = [f"{t.grouping} ({_plural(len(t.rows), 'group')})" for t in tables]
    listed = sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + " and " + sizes[-1]
    total = sum(len(t.rows) for t in tables)
    hidden = sum(r.suppressed for t in tables for r in t.rows)
    first = (f"The metrics of {score} were also measured within "
             f"{_plural(len(tables), 'grouping')} of the records: {listed}, "
             f"{_plural(total, 'group')} in all.")
    if hidden:
        verb = "has" if hidden == 1 else "have"
        second = (f"{hidden} of these {verb} fewer than {small} patients and "
                  f"{'is' if hidden == 1 else 'are'} suppressed: no count and no number is "
                  "shown for them.")
    else:
        second = f"No group has fewer than {small} patients, so none is suppressed."
    third = ("Each interval describes one group on its own; this section does not test whether "
             "groups differ, and overlapping intervals do not by themselves show whether "
             "they do. Small groups give wide intervals.")
    return [first, second, third]


def group_section(run: Run, summary: ScoreSummary) -> GroupSection | None:
    """The "By group" view of one score, or None when the run has no group records for it."""

    records = [r for r in run.group_metrics if r.score == summary.name]
    if not records:
        return None
    small = run.plan.settings.small_cell_threshold
    columns = _columns(run, summary, records)
    by_group: dict[str, dict[str, list[MetricRecord]]] = {}
    for r in records:
        assert r.group is not None
        by_group.setdefault(r.group, {}).setdefault(r.group_value or "", []).append(r)
    tables = []
    forest_rows: dict[str, list[_plots.ForestRow]] = {c.title: [] for c in columns}
    for grouping, values in by_group.items():
        rows = [_row(_label(value), group, columns, small) for value, group in values.items()]
        tables.append(GroupTable(
            grouping=_label(grouping), rows=rows,
            caption=f"{summary.name} by {_label(grouping)}: each metric with its CI; groups "
                    f"with fewer than {small} patients are suppressed"))
        for row, group in zip(rows, values.values(), strict=True):
            label = f"{_label(grouping)} = {row.label}"
            for column in columns:
                found = _find(group, column)
                if row.suppressed:
                    forest_rows[column.title].append(
                        _plots.ForestRow(label, None, note="suppressed"))
                elif found is not None and found.status == "ok" and found.value is not None:
                    forest_rows[column.title].append(_plots.ForestRow(
                        label, found.value, found.ci_low, found.ci_high))
                elif found is not None:
                    forest_rows[column.title].append(
                        _plots.ForestRow(label, None, note="not defined"))
    forests = [_forest(run, summary, column, forest_rows[column.title]) for column in columns]
    return GroupSection(sentences=_sentences(tables, small, summary.name),
                        columns=tuple(c.title for c in columns), tables=tables,
                        forests=[f for f in forests if f is not None])


def _forest(run: Run, summary: ScoreSummary, column: _Column,
            rows: list[_plots.ForestRow]) -> tuple[Any, str] | None:
    """One metric's forest plot by group, with the value of all patients as the dashed line,
    and its caption; ``None`` when no group has a value."""
    from markupsafe import Markup

    if not any(r.value is not None for r in rows):
        return None
    overall = next((r for r in run.overall_metrics if r.score == summary.name
                    and r.metric == column.metric and _same(r.threshold, column.threshold)
                    and r.status == "ok"), None)
    slug = f"forest-{_plots._slug(summary.name)}" + (
        "" if column.metric == "auroc" else f"-{column.metric}")
    svg = _plots.forest_svg(
        rows, score=summary.name, metric=column.title, slug=slug,
        overall=overall.value if overall else None,
        overall_text=format_interval(overall) if overall else None,
        clip=(0.0, 1.0) if column.metric != "oe_ratio" else (0.0, 10.0))
    caption = (f"{column.title} of each group with its CI (squares and bars); the dashed line "
               "is the value of all patients. Suppressed groups and groups where it is not "
               "defined are listed without a marker.")
    return Markup(svg), caption
