"""The "Weak segments" section of the HTML report: one part per weak-segment check.

Each part says how many slices were searched and what was found, and lists the segments by
impact (patients × shortfall) with the metric's interval and the adjusted p-value. Segments
are at least ``min_size`` patients, never fewer than the small-cell threshold, so nothing is
suppressed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assay.reports._format import format_bounds, format_count, format_p_value, metric_title

if TYPE_CHECKING:
    from assay.checks import Run
    from assay.subgroups import SegmentTable

__all__ = ["SegmentPart", "segment_parts"]


@dataclass(frozen=True)
class SegmentPart:
    """One weak-segment check as the report shows it."""

    anchor: str
    title: str
    status: str
    sentences: list[str]
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _search_words(table: SegmentTable) -> str:
    features = ", ".join(table.feature_levels)
    pairs = " and pairs of them" if table.max_features == 2 else ""
    not_tested = table.n_skipped_small + table.n_untested
    test = ("a one-sided DeLong z-test of AUROC" if table.test == "delong"
            else "a one-sided Fisher exact test")
    return (f"Slices of {features}{pairs} were each compared with the other patients by "
            f"{test}: {format_count(table.n_tested)} slices tested"
            + (f", {format_count(not_tested)} not tested (fewer than "
               f"{table.min_size} patients in or out, or the metric undefined)" if not_tested
               else "")
            + f"; Benjamini–Hochberg false discovery rate {table.fdr:g}.")


def segment_parts(run: Run) -> list[SegmentPart]:
    """One part per weak-segment check that ran, in the plan's order."""
    parts = []
    for index, result in enumerate(run.results):
        table = result.segments
        if table is None:
            continue
        title = metric_title(table.metric)
        overall = format_bounds(table.overall.value, table.overall.ci_low,
                                table.overall.ci_high, level=table.level)
        sentences = [f"{title} of all patients: {overall}.", _search_words(table)]
        if table.n_found:
            shown = len(table.rows)
            sentences.append(
                f"{table.n_found} slice(s) had {title} significantly below the other patients"
                + (f"; the {shown} with the largest impact are listed" if shown < table.n_found
                   else "")
                + ". Overlapping slices often describe one region; a segment is a lead for "
                "clinical review, and its features are not causes."
                + (" AUROC is also lower in any slice that narrows the range of risk (a "
                   "slice defined by a strong predictor), even when the model serves its "
                   "patients as well." if table.metric == "auroc" else ""))
        else:
            sentences.append(f"No slice had {title} significantly below the other patients.")
        rows: list[tuple[str, ...]] = [(row.description, format_count(row.n),
                 format_bounds(row.value, row.ci_low, row.ci_high),
                 format_bounds(row.rest_value, None, None),
                 format_bounds(row.shortfall, None, None),
                 format_bounds(row.impact, None, None),
                 format_p_value(row.p_adjusted)) for row in table.rows]
        parts.append(SegmentPart(
            anchor=f"segments-{index}", title=result.title, status=result.status,
            sentences=sentences, rows=rows,
            columns=("Segment", "n", f"{title} (CI)", "Other patients", "Shortfall",
                     "Impact (n × shortfall)", "Adjusted p")))
    return parts
