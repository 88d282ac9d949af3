"""Judging robustness and metamorphic checks: the model is asked again on changed data."""

from __future__ import annotations

from typing import Any

from assay.checks._evaluation import Evaluator, derived_seed
from assay.checks._robustness_specs import MetamorphicCheck, RobustnessCheck
from assay.checks._run import CheckResult
from assay.errors import UndefinedMetricError
from assay.metrics import Estimate, get_metric
from assay.robustness import (
    CounterfactualResult,
    InvarianceResult,
    Model,
    MonotonicityResult,
    counterfactual_flips,
    invariance,
    monotonicity,
    stress_test,
)

NO_MODEL = ("needs the model itself, not only its scores: pass model= to validate() or "
            "--model to assay validate")


def judge_robustness(check: RobustnessCheck, evaluator: Evaluator, model: Model | None,
                     threshold: float | None) -> CheckResult:
    """The metric's drop at the perturbation's strength, judged by the check's condition;
    the whole degradation curve is kept as evidence."""
    spec = get_metric(check.robustness)
    perturbation = check.perturbation
    at = "" if threshold is None else f" at threshold {threshold:g}"
    common: dict[str, Any] = dict(
        id=check.label, kind="robustness", metric=check.robustness, threshold=threshold,
        title=check.title or f"Drop in {spec.title}{at} with {perturbation.describe()}",
        condition=str(check.condition), warning=str(check.warning) if check.warning else None,
    )
    if model is None:
        return CheckResult(status="error", reason=f"this check {NO_MODEL}", **common)
    common["score"] = model.name
    grid = sorted({*(check.strengths or perturbation.default_strengths),
                   perturbation.strength})
    settings = evaluator.settings
    params: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
    curve = stress_test(
        model, evaluator.data.frame, evaluator.data.y, perturbation, metric=check.robustness,
        strengths=grid, n_boot=settings.n_boot, level=settings.level,
        seed=derived_seed(settings.seed, "robustness", check.label),
        sample_weight=evaluator.data.weights, **params)
    try:
        drop = curve.drop_at(perturbation.strength)
    except UndefinedMetricError as exc:
        return CheckResult(status="error", reason=f"could not be evaluated: {exc}",
                           robustness=curve, **common)
    return _verdict(check.condition, check.warning, drop, "drop", common, robustness=curve)


def judge_metamorphic(check: MetamorphicCheck, evaluator: Evaluator, model: Model | None,
                      threshold: float | None) -> CheckResult:
    """The share of patients whose risk (or flag) moved against the expectation."""
    frame, level = evaluator.data.frame, evaluator.settings.level
    if check.metamorphic == "monotonicity":
        title = f"Risk {check.direction} in {check.feature}"
    elif check.metamorphic == "invariance":
        title = f"Risk unchanged by {', '.join(check.features)}"
    else:
        title = f"Flags unchanged when {check.attribute} is changed (threshold {threshold:g})"
    common: dict[str, Any] = dict(
        id=check.label, kind="metamorphic", metric=check.metamorphic, threshold=threshold,
        title=check.title or title, condition=str(check.condition),
    )
    if model is None:
        return CheckResult(status="error", reason=f"this check {NO_MODEL}", **common)
    common["score"] = model.name
    result: MonotonicityResult | InvarianceResult | CounterfactualResult
    if check.metamorphic == "monotonicity":
        assert check.feature is not None
        result = monotonicity(model, frame, check.feature, direction=check.direction,
                              step=check.step, tolerance=check.tolerance, level=level)
        share, n = result.share, result.n
    elif check.metamorphic == "invariance":
        result = invariance(model, frame, list(check.features), tolerance=check.tolerance,
                            seed=derived_seed(evaluator.settings.seed, "invariance",
                                              check.label), level=level)
        share, n = result.share, result.n
    else:
        assert check.attribute is not None and threshold is not None
        result = counterfactual_flips(model, frame, check.attribute, threshold=threshold,
                                      level=level)
        share, n = result.flip_rate, result.n
    moved = Estimate(value=share, ci_low=result.ci_low, ci_high=result.ci_high, level=level,
                     method="wilson", n=n)
    return _verdict(check.condition, None, moved, "share of patients moved", common,
                    metamorphic=result, summary=result.summary())


def _verdict(condition: Any, warning: Any, estimate: Estimate, what: str,
             common: dict[str, Any], summary: str | None = None,
             **evidence: Any) -> CheckResult:
    holds = condition.holds(estimate)
    warned = warning is not None and not warning.holds(estimate)
    described = f"{summary}; this" if summary else f"{what} {estimate}"
    if not holds:
        status, reason = "fail", f"{described} does not meet '{condition}'"
    elif warned:
        status, reason = "warn", f"{described} meets '{condition}' but not '{warning}'"
    else:
        status, reason = "pass", f"{described} meets '{condition}'"
    return CheckResult(status=status, reason=reason, estimate=estimate, **evidence, **common)
