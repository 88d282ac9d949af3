"""Plain-word sentences about a Run, for readers who are not statisticians.

The sentences say what was measured, on which data and with what uncertainty, and what the
plan required. They never call a model safe, unbiased or validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.reports._format import (
    format_bounds,
    format_count,
    format_interval,
    format_level,
    format_percent,
    format_threshold,
    metric_title,
    p_value_text,
)

if TYPE_CHECKING:
    from assay.checks import Check, CheckResult, Run, Status

__all__ = [
    "PLOT_CAPTIONS",
    "STATUS_LABELS",
    "STATUS_SYMBOLS",
    "check_sentence",
    "condition_parts",
    "counts_sentence",
    "intro_sentences",
    "join_words",
    "method_name",
    "plan_check",
    "reading_notes",
    "threshold_notes",
    "threshold_words",
]

STATUS_LABELS: dict[str, str] = {"pass": "Pass", "warn": "Warning", "fail": "Fail",
                                 "error": "Error", "skipped": "Skipped"}
STATUS_SYMBOLS: dict[str, str] = {"pass": "✓", "warn": "!", "fail": "✗", "error": "⚠",
                                  "skipped": "–"}
_COUNT_PHRASES: dict[str, tuple[str, str]] = {
    "fail": ("failed", "failed"),
    "error": ("could not be evaluated", "could not be evaluated"),
    "warn": ("passed with a warning", "passed with a warning"),
    "pass": ("passed", "passed"),
    "skipped": ("was skipped", "were skipped"),
}
_METHOD_NAMES = {"delong": "DeLong", "wilson": "Wilson", "bootstrap": "Bootstrap",
                 "bootstrap-percentile": "Bootstrap (percentile)",
                 "bootstrap-bca": "Bootstrap (BCa)", "normal": "Normal approximation",
                 "cbpe": "Simulated outcomes (label-free estimate)", "none": "No interval"}
_PREDICATES = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}
PLOT_CAPTIONS = {
    "roc": "Sensitivity against 1 − specificity at every threshold. The dotted diagonal is "
           "what a score with no discrimination would give; the legend gives the AUROC with "
           "its CI.",
    "pr": "PPV (precision) against sensitivity (recall) at every threshold. The dotted line "
          "is the prevalence: the PPV of flagging patients at random.",
    "calibration": "Observed event rate against predicted risk: the smoothed curve with its "
                   "{level} CI band, and the observed rate in each bin of predicted risk with "
                   "its Wilson {level} CI. On the dotted diagonal, predicted risks would equal "
                   "observed rates.",
    "decision": "Net benefit of acting on the score at each threshold probability, against "
                "treating every patient and treating none. Where the score's curve lies above "
                "both, acting on it gave more net benefit in this data than either default.",
}
"""What each plot shows, in words, under the figure."""
_TESTS = {"noninferiority": "non-inferiority", "superiority": "superiority",
          "equivalence": "equivalence"}


def method_name(method: str | None) -> str:
    """The reader-facing name of an interval method (``bootstrap-bca`` → ``Bootstrap (BCa)``)."""
    if method is None:
        return "—"
    return _METHOD_NAMES.get(method, method)


def join_words(parts: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _plural(n: int, one: str, many: str) -> str:
    return f"{format_count(n)} {one if n == 1 else many}"


def condition_parts(text: str, level: float, *, of: str = "") -> tuple[str, str]:
    """Split a condition into a subject and a predicate in words.

    Examples
    --------
    >>> condition_parts("ci_low >= 0.7", 0.95)
    ('the lower bound of the 95% CI', 'at least 0.70')
    >>> condition_parts("ci in [-0.02, 0.02]", 0.95, of=" of the difference")
    ('the whole 95% CI of the difference', 'between −0.02 and 0.02')
    """
    from assay.checks import Condition

    condition = Condition.model_validate(text)
    ci = f"{format_level(level)} CI{of}"
    subject = {"value": f"the estimate{of}", "ci_low": f"the lower bound of the {ci}",
               "ci_high": f"the upper bound of the {ci}", "ci": f"the whole {ci}"}
    if condition.operator == "outside":
        predicate = (f"outside {format_threshold(condition.low)} to "
                     f"{format_threshold(condition.high)}")
    elif condition.operator == "in":
        predicate = (f"between {format_threshold(condition.low)} and "
                     f"{format_threshold(condition.high)}")
    else:
        predicate = f"{_PREDICATES[condition.operator]} {format_threshold(condition.bound)}"
    return subject[condition.field], predicate


def _requirement(result: CheckResult, level: float, of: str = "") -> str:
    if not result.condition:
        return ""
    subject, predicate = condition_parts(result.condition, level, of=of)
    text = f"the plan requires {subject} to be {predicate}"
    if result.status == "warn" and result.warning:
        subject, predicate = condition_parts(result.warning, level, of=of)
        text += f", which holds, and warns unless {subject} is {predicate}"
    return text


def plan_check(run: Run, check_id: str) -> Check | None:
    """The plan's check whose id (label) is ``check_id``, if any."""
    return next((c for c in run.plan.checks if c.label == check_id), None)


def threshold_words(run: Run, result: CheckResult) -> str:
    """`` at threshold 0.30 (“high_risk”)``, or an empty string for a check without one."""
    if result.threshold is None:
        return ""
    check = plan_check(run, result.id)
    named = (f" (“{check.threshold}”)" if check is not None
             and isinstance(check.threshold, str) else "")
    return f" at threshold {format_threshold(result.threshold)}{named}"


def _reason(result: CheckResult) -> str:
    return result.reason.removeprefix("could not be evaluated: ").rstrip(".")


def check_sentence(run: Run, result: CheckResult) -> str:
    """One sentence on a check: what was measured, with its interval, and what was required.

    Examples
    --------
    ``Sensitivity of risk at threshold 0.30 was 0.612 (95% CI 0.550–0.670); the plan requires
    the lower bound of the 95% CI to be at least 0.70.``
    """
    if result.status == "error":
        return f"“{result.title}” could not be evaluated: {_reason(result)}."
    if result.status == "skipped":
        return f"“{result.title}” was skipped: {_reason(result)}."
    if result.finding is not None:
        return f"{result.title}: {result.reason.rstrip('.')}."
    if result.fairness is not None or result.segments is not None:
        return f"{result.title}: {result.reason}."
    if result.robustness is not None and result.estimate is not None:
        drop = format_interval(result.estimate, level=result.estimate.level)
        measured = f"{result.title}: the drop (positive means worse) was {drop}"
        requirement = _requirement(result, result.estimate.level, of=" of the drop")
        return f"{measured}; {requirement}."
    if result.metamorphic is not None and result.estimate is not None:
        summary = result.metamorphic.summary().rstrip(".")
        requirement = _requirement(result, result.estimate.level,
                                   of=" of the share of patients")
        return f"{result.title}: {summary}; {requirement}."
    if result.comparison is not None:
        c = result.comparison
        from assay.checks import ComparisonCheck

        check = plan_check(run, result.id)
        test = ""
        if isinstance(check, ComparisonCheck):
            test = f" ({_TESTS[check.test]} test, margin {format_threshold(check.margin)})"
        measured = (f"The difference in {metric_title(result.metric)} between {c.a} and {c.b}"
                    f"{threshold_words(run, result)} ({c.a} minus {c.b}) was "
                    f"{format_bounds(c.difference, c.ci_low, c.ci_high, level=c.level)}"
                    f", {p_value_text(c.p_value)}")
        requirement = _requirement(result, c.level, of=" of the difference")
        return f"{measured}; {requirement}{test}." if requirement else f"{measured}."
    if result.estimate is None:
        return f"“{result.title}”: {_reason(result)}."
    estimate = result.estimate
    measured = (f"{metric_title(result.metric)} of {result.score}{threshold_words(run, result)}"
                f" was {format_interval(estimate, level=estimate.level)}")
    requirement = _requirement(result, estimate.level)
    return f"{measured}; {requirement}." if requirement else f"{measured}."


def intro_sentences(run: Run) -> list[str]:
    """What was tested, on which data."""
    data = run.data
    scores = join_words([f"“{s}”" for s in run.roles.score])
    plan = f"The plan “{run.plan.name}” (version {run.plan.version})"
    checks = _plural(len(run.results), "check", "checks")
    sentences = [f"{plan} was run with {checks} on the "
                 f"{'score' if len(run.roles.score) == 1 else 'scores'} {scores}."]
    records = _plural(data.n, "record", "records")
    held = f"The data, {data.source}, hold {records}"
    if data.cohort is not None:
        held = (f"The data, {data.source}, hold "
                f"{_plural(data.cohort.n_start, 'record', 'records')}, of which the plan's "
                f"cohort kept {records} (see Data)")
    if data.n_events is not None and data.n > 0:
        sentences.append(
            f"{held}; {format_count(data.n_events)} had the outcome “{run.roles.target}” "
            f"(prevalence {format_percent(data.n_events / data.n)}).")
    else:
        sentences.append(f"{held}.")
    if data.time_start and data.time_end:
        sentences.append(f"The records date from {data.time_start[:10]} to "
                         f"{data.time_end[:10]}.")
    return sentences


def counts_sentence(counts: dict[Status, int]) -> str:
    """``Of the 7 checks, 4 passed, 1 failed and 2 were skipped.``"""
    total = sum(counts.values())
    parts = [f"{format_count(n)} {_COUNT_PHRASES[s][0 if n == 1 else 1]}"
             for s, n in counts.items() if n]
    if total == 0:
        return ("The plan sets no acceptance criteria, so nothing passes or fails: the report "
                "describes performance only.")
    return f"Of the {_plural(total, 'check', 'checks')}, {join_words(parts)}."


def threshold_notes(run: Run) -> list[tuple[str, str, str]]:
    """Each named threshold: its name, its value and how it was set."""
    from assay.checks import ThresholdRule

    rows = []
    for name, value in run.thresholds.items():
        rule = run.plan.thresholds.get(name)
        if isinstance(rule, ThresholdRule):
            score = rule.score or run.roles.score[0]
            how = {"sensitivity": f"highest threshold of {score} with sensitivity of at least "
                                  f"{format_threshold(rule.target)}",
                   "flag_rate": f"lowest threshold of {score} that flags at most "
                                f"{format_percent(rule.target)} of records",
                   "youden": f"threshold of {score} with the largest sensitivity + "
                             "specificity − 1"}[rule.rule]
            rows.append((name, format_threshold(value), f"chosen on this data: {how}"))
        else:
            rows.append((name, format_threshold(value), "fixed in the plan"))
    return rows


def reading_notes(run: Run) -> list[str]:
    """The paragraphs of "How to read this report": intervals, conditions, methods used."""
    level = format_level(run.level)
    settings = run.plan.settings
    methods = {r.method for r in run.metrics if r.method} | {
        r.estimate.method for r in run.results if r.estimate is not None} | {
        c.method for c in run.comparisons}
    text = [
        f"Every number is an estimate from this data, shown with its {level} confidence "
        f"interval (CI) in brackets: “0.781 (0.762–0.799)”. A {level} CI is built so that, "
        f"over many samples from the same population, {level} of such intervals would contain "
        "the true value. A wide interval means the data leave the value uncertain.",
        "A check compares an estimate with the condition the plan sets: “ci_low >= 0.7” "
        "requires the lower bound of the interval to be at least 0.70, so a check can fail "
        "even when the point estimate is above the bound. A warning means the plan's "
        "condition held but a stricter warning condition did not. A value that could not be "
        "computed (for example, nobody flagged) is shown as undefined with its reason; it is "
        "never counted as a pass.",
    ]
    if "delong" in methods:
        text.append("DeLong: intervals for the AUROC, and tests of the difference between two "
                    "AUROCs on the same records, use DeLong's variance estimate "
                    "(DeLong et al., 1988).")
    proportions = any("threshold" in c or "reliability" in c for c in run.curves.values())
    if "wilson" in methods or proportions:
        text.append("Wilson: proportions (sensitivity, specificity, PPV, NPV, flag rate, and "
                    "the observed rate in each calibration bin) use the Wilson score interval, "
                    "which stays within 0 to 1 and behaves well for small counts.")
    if any(m.startswith("bootstrap") for m in methods):
        kind = ("bias-corrected and accelerated (BCa)" if settings.bootstrap_method == "bca"
                else "percentile")
        text.append(f"Bootstrap: the other intervals come from resampling the records "
                    f"{format_count(settings.n_boot)} times with replacement, patients with and "
                    f"without the outcome separately (seed {run.seed}), "
                    f"and taking the {kind} interval of the resampled estimates. The same data "
                    "and seed give the same numbers.")
    if any("calibration" in c for c in run.curves.values()):
        text.append("The band around the smoothed calibration curve is a bootstrap percentile "
                    "band: the curve was refitted on resampled records and the band holds the "
                    f"middle {level} of the refitted curves at each predicted risk.")
    text.append("This report records what was measured, on which data and with what "
                "uncertainty. Whether that is enough for a given clinical use is a judgement "
                "for the people responsible for that use.")
    return text
