"""Judging a weak-segment check: a search over slices, with the segments found as evidence."""

from __future__ import annotations

from typing import Any

from assay.checks._evaluation import Evaluator
from assay.checks._run import CheckResult
from assay.checks._specs import SegmentCheck
from assay.metrics import get_metric
from assay.subgroups import weak_segments

SHOWN = 3
"""How many segments a check's reason names."""


def judge_segments(check: SegmentCheck, evaluator: Evaluator,
                   threshold: float | None) -> CheckResult:
    """Search the slices; no segment passes, a segment warns (or fails with ``found: fail``)."""
    spec = get_metric(check.segments)
    score = check.score or evaluator.data.score_names[0]
    at = "" if threshold is None else f" at threshold {threshold:g}"
    common: dict[str, Any] = dict(
        id=check.label, kind="segments", metric=check.segments, score=score,
        threshold=threshold, condition=f"no slice significantly worse (FDR {check.fdr:g})",
        title=check.title or f"Weak segments of {spec.title} of {score}{at}",
    )
    if reason := evaluator.applicable(spec, score):
        return CheckResult(status="skipped", reason=reason, **common)
    params: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
    data = evaluator.data
    table = weak_segments(
        check.segments, data.y, data.scores[score], data.frame[list(check.features)],
        max_features=check.max_features, n_bins=check.n_bins, min_size=check.min_size,
        fdr=check.fdr, level=evaluator.settings.level, sample_weight=data.weights,
        small_cell_threshold=evaluator.settings.small_cell_threshold,
        max_segments=check.max_segments, **params)
    searched = (f"{table.n_tested} slices of {', '.join(check.features)} tested against the "
                f"other patients")
    if table.n_found == 0:
        return CheckResult(status="pass", segments=table, **common,
                           reason=f"no slice significantly worse: {searched}")
    named = "; ".join(f"{row.description} ({spec.title} {row.value:.3f} vs {row.rest_value:.3f}"
                      f", n = {row.n:,})" for row in table.rows[:SHOWN])
    more = f" and {table.n_found - SHOWN} more" if table.n_found > SHOWN else ""
    return CheckResult(status=check.found, segments=table, **common,
                       reason=f"{table.n_found} weak segment(s) among {searched}: {named}{more}")
