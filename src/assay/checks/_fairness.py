"""Judging a fairness check: the audit's band statuses become a check status in plain words."""

from __future__ import annotations

from typing import Any

from assay.checks._evaluation import Evaluator
from assay.checks._run import CheckResult
from assay.checks._specs import FairnessCheck
from assay.metrics import get_metric
from assay.metrics._estimate import format_interval
from assay.subgroups import CRITERIA, DisparityRow, FairnessAudit

SHOWN = 3
"""How many groups a check's reason names before saying "and N more"."""


def judge_fairness(check: FairnessCheck, evaluator: Evaluator,
                   threshold: float | None) -> CheckResult:
    """Run the check's criterion and judge it: a clear breach fails, a possible breach warns
    (or fails with ``fail_on: possible_breach``), and no judged group at all is an error."""
    criterion = CRITERIA[check.fairness]
    score = check.score or evaluator.data.score_names[0]
    at = "" if threshold is None else f" at threshold {threshold:g}"
    common: dict[str, Any] = dict(
        id=check.label, kind="fairness", metric=",".join(criterion.metrics), score=score,
        threshold=threshold,
        title=check.title or f"{criterion.title} of {score} by {check.by}{at}",
        condition=f"ratio to the reference within [{1 / (1 + check.tolerance):.3g}, "
                  f"{1 + check.tolerance:.3g}]",
    )
    for metric in criterion.metrics:
        if reason := evaluator.applicable(get_metric(metric), score):
            return CheckResult(status="skipped", reason=reason, **common)
    audit = evaluator.fairness(check.fairness, score, check.by, threshold=threshold,
                               reference=check.reference, tolerance=check.tolerance,
                               correction=check.correction)
    if audit.status == "undefined":
        return CheckResult(status="error", fairness=audit, **common,
                           reason=f"no group of {check.by} could be judged: " + _undefined(audit))
    if audit.status == "clear_breach":
        status = "fail"
    elif audit.status == "possible_breach":
        status = "fail" if check.fail_on == "possible_breach" else "warn"
    else:
        status = "pass"
    return CheckResult(status=status, reason=_reason(audit), fairness=audit, **common)


def _reason(audit: FairnessAudit) -> str:
    """The worst rows in words, e.g. ``sensitivity of race=Black: ratio 0.62 (0.51 to 0.75)
    to White, outside the band``."""
    if audit.status == "within":
        judged = sum(r.band_status == "within" for t in audit.tables for r in t.rows)
        return (f"all {judged} compared group(s) of {audit.attribute} lie within the band "
                f"{_band(audit)}" + _not_judged(audit))
    words = {"clear_breach": "outside the band", "possible_breach": "possibly outside the band"}
    found = [(t.metric, t.reference, row) for t in audit.tables for row in t.rows
             if row.band_status == audit.status]
    parts = [_row_words(audit.attribute, metric, reference, row) for metric, reference, row
             in found[:SHOWN]]
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return (f"{words[audit.status]} {_band(audit)}: " + "; ".join(parts) + more
            + _not_judged(audit))


def _row_words(attribute: str, metric: str, reference: str, row: DisparityRow) -> str:
    assert row.ratio is not None
    ratio = format_interval(row.ratio, row.ratio_ci_low, row.ratio_ci_high)
    to = "the ideal value" if reference == "ideal" else repr(reference)
    words = f"{metric} of {attribute}={row.group_value}: ratio {ratio} to {to}"
    if row.band_status == "possible_breach" and row.reason:
        words += f" ({row.reason})"
    return words


def _band(audit: FairnessAudit) -> str:
    low, high = audit.tables[0].band
    return f"[{low:.3g}, {high:.3g}]"


def _not_judged(audit: FairnessAudit) -> str:
    suppressed = sum(r.band_status == "suppressed" for t in audit.tables for r in t.rows)
    undefined = sum(r.band_status == "undefined" for t in audit.tables for r in t.rows)
    notes = []
    if suppressed:
        notes.append(f"{suppressed} suppressed (small groups)")
    if undefined:
        notes.append(f"{undefined} undefined")
    return f"; not judged: {', '.join(notes)}" if notes else ""


def _undefined(audit: FairnessAudit) -> str:
    reasons = [f"{r.group_value}: {r.reason}" for t in audit.tables for r in t.rows][:SHOWN]
    return "; ".join(reasons) or "the grouping has only the reference group"
