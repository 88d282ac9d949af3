"""Running a plan on data: resolve thresholds, evaluate, judge each check, record a Run."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from assay._version import __version__
from assay.checks._data_checks import judge_quality, select_cohort
from assay.checks._evaluation import Evaluator
from assay.checks._fairness import judge_fairness
from assay.checks._plan import Plan, ThresholdRule
from assay.checks._robustness import judge_metamorphic, judge_robustness
from assay.checks._robustness_specs import MetamorphicCheck, RobustnessCheck
from assay.checks._run import CheckResult, DataSummary, Run, ScoreSummary
from assay.checks._segments import judge_segments
from assay.checks._specs import Check, ComparisonCheck, FairnessCheck, MetricCheck, SegmentCheck
from assay.curation._cohort import Attrition
from assay.data import Dataset, Roles
from assay.errors import InputError, PlanError, UndefinedMetricError
from assay.metrics import PairedComparison, get_metric, select_threshold
from assay.metrics._estimate import format_interval
from assay.robustness import Model, as_model

logger = logging.getLogger(__name__)


def validate(plan: Plan, data: Any, *, roles: Roles | None = None,
             model: object | None = None) -> Run:
    """Run a plan on data and return the immutable :class:`Run`.

    Parameters
    ----------
    plan
        The validation plan; it is not modified.
    data
        A :class:`~assay.data.Dataset`, or a table or file path read with ``roles``.
    roles
        Column roles when ``data`` is not already a Dataset; defaults to the plan's roles.
    model
        The model itself, for robustness and metamorphic checks: a fitted scikit-learn
        classifier or pipeline, a function returning risks, or an
        :class:`assay.robustness.Model`. The data must hold the columns it reads.

    Raises
    ------
    InputError
        when the data does not fit the roles or the plan names a score the data lacks.
    PlanError
        when neither the plan nor the caller gives roles.
    """
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    roles = roles or plan.roles
    if roles is None and not isinstance(data, Dataset):
        raise PlanError("no column roles: give them in the plan ('roles:') or to validate()")
    dataset, attrition = select_cohort(plan, data, roles or data.roles)
    absent = [c for c in plan.columns_used() if c not in dataset.frame.columns]
    if absent:
        raise InputError(f"{dataset.source}: the plan uses column(s) "
                         f"{', '.join(map(repr, absent))}, which the data does not have")
    missing = sorted(plan.scores_used() - set(dataset.score_names))
    if missing:
        raise InputError(
            f"the plan names score column(s) {', '.join(map(repr, missing))} that are not "
            f"among the data's scores ({', '.join(dataset.score_names)})"
        )
    evaluator = Evaluator(dataset, plan.settings)
    timings: dict[str, float] = {"load": time.perf_counter() - clock}

    def timed(step: str, start: float) -> float:
        now = time.perf_counter()
        timings[step] = now - start
        return now

    mark = time.perf_counter()
    thresholds = _resolve_thresholds(plan, dataset)
    owners = _threshold_scores(plan, dataset)
    per_score = {score: {name: value for name, value in thresholds.items()
                         if score in owners[name]} for score in dataset.score_names}
    adapted = None if model is None else as_model(model)
    quality = judge_quality(plan, dataset)
    mark = timed("quality", mark)
    results = (*quality,
               *(_judge(check, evaluator, thresholds, adapted) for check in plan.checks))
    mark = timed("checks", mark)
    overall = evaluator.metric_records(per_score)
    mark = timed("metrics", mark)
    broken_down = [r for r in overall
                   if not plan.group_metrics or r.metric in plan.group_metrics]
    metrics = (*overall, *evaluator.group_records(broken_down, plan.groups))
    mark = timed("groups", mark)
    comparisons = tuple(evaluator.comparisons())
    mark = timed("comparisons", mark)
    curves = evaluator.curves(per_score)
    timed("curves", mark)
    timings["total"] = time.perf_counter() - clock
    logger.info("plan %r on %s: %s in %.1f s", plan.name, dataset.source,
                ", ".join(f"{r.id} {r.status}" for r in results) or "no checks",
                timings["total"])
    return Run(
        assay_version=__version__, plan=plan, plan_fingerprint=plan.fingerprint,
        roles=dataset.roles, data=_summarise(dataset, attrition), seed=plan.settings.seed,
        level=plan.settings.level, thresholds=thresholds, threshold_scores=owners,
        results=results, metrics=metrics,
        comparisons=comparisons, curves=curves, started_at=started_at,
        timings={k: round(v, 4) for k, v in timings.items()},
    )


def _resolve_thresholds(plan: Plan, data: Dataset) -> dict[str, float]:
    resolved: dict[str, float] = {}
    for name, value in plan.thresholds.items():
        if isinstance(value, ThresholdRule):
            score = value.score or data.score_names[0]
            resolved[name] = float(select_threshold(
                data.y, data.scores[score], rule=value.rule, target=value.target))
        else:
            resolved[name] = float(value)
    return resolved


def _threshold_scores(plan: Plan, data: Dataset) -> dict[str, tuple[str, ...]]:
    """The scores each named threshold applies to, since a threshold lives on a score's scale.

    A threshold applies to the scores of the checks that use it and to the score a rule chose
    it on; a fixed number between 0 and 1 also applies to every probability score. A threshold
    that would apply to no score applies to the first score (the model under validation).
    """
    first = data.score_names[0]
    owners: dict[str, set[str]] = {name: set() for name in plan.thresholds}
    if data.roles.task != "binary":
        return {name: () for name in plan.thresholds}
    for check in plan.checks:
        if not isinstance(check.threshold, str):
            continue
        if isinstance(check, ComparisonCheck):
            owners[check.threshold] |= {check.challenger, check.baseline}
        elif isinstance(check, MetricCheck | FairnessCheck | SegmentCheck):
            owners[check.threshold].add(check.score or first)
    for name, value in plan.thresholds.items():
        if isinstance(value, ThresholdRule):
            owners[name].add(value.score or first)
        elif 0.0 <= value <= 1.0:
            owners[name] |= {s for s in data.score_names if data.is_probability(s)}
        owners[name] = owners[name] or {first}
    return {name: tuple(s for s in data.score_names if s in scores)
            for name, scores in owners.items()}


def _judge(check: Check, evaluator: Evaluator, thresholds: dict[str, float],
           model: Model | None) -> CheckResult:
    threshold = (thresholds[check.threshold] if isinstance(check.threshold, str)
                 else check.threshold)
    if isinstance(check, MetricCheck):
        return _judge_metric(check, evaluator, threshold)
    if isinstance(check, FairnessCheck):
        return judge_fairness(check, evaluator, threshold)
    if isinstance(check, SegmentCheck):
        return judge_segments(check, evaluator, threshold)
    if isinstance(check, RobustnessCheck):
        return judge_robustness(check, evaluator, model, threshold)
    if isinstance(check, MetamorphicCheck):
        return judge_metamorphic(check, evaluator, model, threshold)
    return _judge_comparison(check, evaluator, threshold)


def _judge_metric(check: MetricCheck, evaluator: Evaluator,
                  threshold: float | None) -> CheckResult:
    spec = get_metric(check.metric)
    score = check.score or evaluator.data.score_names[0]
    title = check.title or _title(spec.title, score, threshold)
    common: dict[str, Any] = dict(
        id=check.label, kind="metric", title=title, metric=check.metric, score=score,
        threshold=threshold, condition=str(check.condition),
        warning=str(check.warning) if check.warning else None,
    )
    if reason := evaluator.applicable(spec, score):
        return CheckResult(status="skipped", reason=reason, **common)
    try:
        result = evaluator.estimate(check.metric, score, threshold=threshold, ci=check.ci,
                                    params=check.params)
        holds = check.condition.holds(result)
        warned = check.warning is not None and not check.warning.holds(result)
    except UndefinedMetricError as exc:
        return CheckResult(status="error", reason=f"could not be evaluated: {exc}", **common)
    if not holds:
        status, reason = "fail", f"{result} does not meet '{check.condition}'"
    elif warned:
        status, reason = "warn", f"{result} meets '{check.condition}' but not '{check.warning}'"
    else:
        status, reason = "pass", f"{result} meets '{check.condition}'"
    return CheckResult(status=status, reason=reason, estimate=result, **common)


def _judge_comparison(check: ComparisonCheck, evaluator: Evaluator,
                      threshold: float | None) -> CheckResult:
    spec = get_metric(check.compare)
    title = check.title or (f"{spec.title} of {check.challenger} vs {check.baseline} "
                            f"({check.test}, margin {check.margin:g})")
    common: dict[str, Any] = dict(
        id=check.label, kind="comparison", title=title, metric=check.compare,
        score=check.challenger, threshold=threshold,
        condition=_comparison_condition(check, bool(spec.greater_is_better)),
    )
    for score in (check.challenger, check.baseline):
        if reason := evaluator.applicable(spec, score):
            return CheckResult(status="skipped", reason=reason, **common)
    try:
        result = evaluator.compare(check.compare, check.challenger, check.baseline,
                                   threshold=threshold)
    except UndefinedMetricError as exc:
        return CheckResult(status="error", reason=f"could not be evaluated: {exc}", **common)
    holds = _comparison_holds(check, result, bool(spec.greater_is_better))
    described = "difference " + format_interval(result.difference, result.ci_low,
                                                result.ci_high, signed=True)
    verdict = "meets" if holds else "does not meet"
    return CheckResult(status="pass" if holds else "fail",
                       reason=f"{described} {verdict} '{common['condition']}'",
                       comparison=result, **common)


def _comparison_condition(check: ComparisonCheck, higher_is_better: bool) -> str:
    m = check.margin
    if check.test == "equivalence":
        return f"ci in [{-m:g}, {m:g}]"
    if check.test == "noninferiority":
        return f"ci_low > {-m:g}" if higher_is_better else f"ci_high < {m:g}"
    return f"ci_low > {m:g}" if higher_is_better else f"ci_high < {-m:g}"


def _comparison_holds(check: ComparisonCheck, result: PairedComparison,
                      higher_is_better: bool) -> bool:
    m = check.margin
    if check.test == "equivalence":
        return -m <= result.ci_low and result.ci_high <= m
    if check.test == "noninferiority":
        return result.ci_low > -m if higher_is_better else result.ci_high < m
    return result.ci_low > m if higher_is_better else result.ci_high < -m


def _title(metric_title: str, score: str, threshold: float | None) -> str:
    at = f" at threshold {threshold:g}" if threshold is not None else ""
    return f"{metric_title} of {score}{at}"


def _summarise(data: Dataset, attrition: Attrition | None) -> DataSummary:
    scores = tuple(
        ScoreSummary(name=name, probability=data.is_probability(name),
                     minimum=float(values.min()), maximum=float(values.max()))
        for name, values in data.scores.items()
    )
    start = end = None
    if data.roles.time is not None:
        times = pd.to_datetime(data.frame[data.roles.time])
        start, end = times.min().isoformat(), times.max().isoformat()
    return DataSummary(source=data.source, fingerprint=data.fingerprint, n=data.n,
                       n_events=data.n_events, scores=scores, time_start=start, time_end=end,
                       cohort=attrition)

