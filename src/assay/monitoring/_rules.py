"""Alert rules judged on window results: does a rule's signal hold in a window, and why.

Pure functions over :class:`WindowResult` histories; the alert lifecycle (open, update,
resolve, cool-down) lives in :mod:`assay.monitoring._alerts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assay.drift import get_drift_method
from assay.metrics import Estimate
from assay.monitoring._evaluate import Baseline, WindowResult
from assay.monitoring._sequential import detect
from assay.monitoring._spec import AlertRule, MonitorSpec
from assay.monitoring._windows import parse_duration

__all__ = ["Finding", "clear_for", "judge", "signal", "standard_error"]

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Finding:
    """A rule judged on one window: ``holds`` is None when the signal has no value there."""

    holds: bool | None
    title: str
    details: dict[str, Any] = field(default_factory=dict)


def standard_error(value: Estimate) -> float | None:
    """The standard error implied by a 95 % interval, or None without one."""
    if value.ci_low is None or value.ci_high is None:
        return None
    return (value.ci_high - value.ci_low) / (2 * _Z95)


def judge(rule: AlertRule, spec: MonitorSpec, reference: Baseline,
          history: list[WindowResult]) -> Finding:
    """Judge ``rule`` on the last window of ``history`` (oldest first), hysteresis included.

    The signal must hold in ``rule.for_windows`` consecutive windows ending with the last one;
    a window where it has no value breaks the run.
    """
    last = _judge_one(rule, spec, reference, history)
    if not last.holds or rule.for_windows == 1:
        return last
    needed = rule.for_windows
    if len(history) < needed:
        return Finding(False, last.title, {**last.details, "consecutive": len(history)})
    for back in range(2, needed + 1):
        earlier = _judge_one(rule, spec, reference, history[:len(history) - back + 1])
        if not earlier.holds:
            return Finding(False, last.title, {**last.details, "consecutive": back - 1})
    return Finding(True, last.title, {**last.details, "consecutive": needed})


def signal(rule: AlertRule, spec: MonitorSpec, reference: Baseline,
           history: list[WindowResult]) -> Finding:
    """The rule's signal in the last window of ``history`` alone (no hysteresis)."""
    return _judge_one(rule, spec, reference, history)


def clear_for(rule: AlertRule, spec: MonitorSpec, reference: Baseline,
              history: list[WindowResult]) -> bool:
    """Whether the signal has been clear (judged, not holding) in the last
    ``rule.resolve_after`` windows of ``history``; sequential alarms are never cleared."""
    if rule.kind == "sequential" or len(history) < rule.resolve_after:
        return False
    return all(_judge_one(rule, spec, reference, history[:len(history) - back]).holds is False
               for back in range(rule.resolve_after))


def _judge_one(rule: AlertRule, spec: MonitorSpec, reference: Baseline,
               history: list[WindowResult]) -> Finding:
    window = history[-1]
    if rule.kind == "metric":
        return _metric(rule, reference, window)
    if rule.kind == "drift":
        return _drift(rule, window)
    if rule.kind == "sequential":
        return _sequential(rule, reference, history)
    if rule.kind == "no_data":
        assert rule.no_data is not None
        holds = window.n < rule.no_data.min_rows
        return Finding(holds, f"{window.n} prediction(s) in the window {window.label}, "
                              f"at least {rule.no_data.min_rows} expected",
                       {"n": window.n, "min_rows": rule.no_data.min_rows})
    return _labels_overdue(rule, spec, window)


def _metric(rule: AlertRule, reference: Baseline, window: WindowResult) -> Finding:
    assert rule.metric is not None and rule.when is not None
    value = window.signals.get(rule.metric)
    if value is None:
        reason = window.undefined.get(rule.metric, "not measured")
        return Finding(None, f"{rule.metric}: no value ({reason})", {"metric": rule.metric})
    compared = value
    details: dict[str, Any] = {"metric": rule.metric, "value": value.value,
                               "ci_low": value.ci_low, "ci_high": value.ci_high, "n": value.n,
                               "condition": str(rule.when)}
    if rule.relative_to == "reference":
        base = reference.signals.get(rule.metric)
        if base is None:
            return Finding(None, f"{rule.metric}: the reference has no value", details)
        compared = difference(value, base)
        details.update(reference=base.value, difference=compared.value,
                       difference_ci_low=compared.ci_low, difference_ci_high=compared.ci_high)
    try:
        holds = rule.when.holds(compared)
    except ValueError:
        return Finding(None, f"{rule.metric}: no interval to judge '{rule.when}'", details)
    of = " − reference" if rule.relative_to else ""
    title = f"{rule.metric}{of} = {compared}"
    return Finding(holds, f"{title}, alert when {rule.when}", details)


def difference(value: Estimate, base: Estimate) -> Estimate:
    """``value − base`` with a normal-approximation interval from both standard errors."""
    se_value, se_base = standard_error(value), standard_error(base)
    delta = value.value - base.value
    if se_value is None:
        return Estimate(value=delta, method="none", n=value.n)
    se = math.hypot(se_value, se_base or 0.0)
    return Estimate(value=delta, ci_low=delta - _Z95 * se, ci_high=delta + _Z95 * se,
                    method="normal", n=value.n)


def _drift(rule: AlertRule, window: WindowResult) -> Finding:
    assert rule.drift is not None
    chosen = rule.drift
    threshold = (chosen.threshold if chosen.threshold is not None
                 else get_drift_method(chosen.method).threshold)
    records = [r for r in window.drift if r.method == chosen.method
               and (chosen.features is None or r.feature in chosen.features)]
    if not records:
        return Finding(None, f"no {chosen.method} drift records in the window", {})
    moved = sorted((r for r in records if r.statistic > threshold),
                   key=lambda r: -r.statistic)
    listed = ", ".join(f"{r.feature} {r.statistic:.2f}" for r in moved[:6])
    more = f" and {len(moved) - 6} more" if len(moved) > 6 else ""
    title = (f"{len(moved)} feature(s) drifted ({chosen.method} > {threshold:g}): {listed}{more}"
             if moved else f"no feature beyond {chosen.method} {threshold:g}")
    return Finding(len(moved) >= chosen.min_features, title,
                   {"method": chosen.method, "threshold": threshold,
                    "features": {r.feature: r.statistic for r in moved}})


def _sequential(rule: AlertRule, reference: Baseline,
                history: list[WindowResult]) -> Finding:
    assert rule.sequential is not None
    metric = rule.sequential.metric
    base = reference.signals.get(metric)
    if base is None:
        return Finding(None, f"{metric}: the reference has no value", {"metric": metric})
    values: list[float | None] = []
    ses: list[float | None] = []
    for result in history:
        signal = result.signals.get(metric)
        se = None if signal is None else standard_error(signal)
        usable = signal is not None and se is not None and se > 0
        values.append(signal.value if usable and signal is not None else None)
        ses.append(se if usable else None)
    if values[-1] is None:
        return Finding(None, f"{metric}: no value this window", {"metric": metric})
    found = detect(values, ses, base.value, method=rule.sequential.method,
                   arl0=rule.sequential.arl0, reference_se=standard_error(base) or 0.0)
    last = found.windows[-1]
    direction = {"up": "risen above", "down": "fallen below"}.get(last.direction or "", "")
    method = {"cusum": "CUSUM", "page_hinkley": "Page-Hinkley"}[rule.sequential.method]
    budget = f"{method}, about one false alarm in {found.arl0:.0f} windows"
    title = (f"{metric} has {direction} its reference {base.value:.3f} ({budget})"
             if last.alarm else f"{metric}: no change detected ({budget})")
    return Finding(last.alarm, title, {"metric": metric, "reference": base.value,
                                       "statistic": max(last.upper, last.lower),
                                       "threshold": found.threshold, "arl0": found.arl0,
                                       "budget": found.budget,
                                       "direction": last.direction})


def _labels_overdue(rule: AlertRule, spec: MonitorSpec, window: WindowResult) -> Finding:
    assert rule.labels_overdue is not None
    due: datetime = (window.window_end + parse_duration(spec.outcome_window)
                     + parse_duration(rule.labels_overdue.grace))
    share = window.n_labelled / window.n if window.n else None
    details = {"due": due.isoformat(), "labelled_share": share,
               "min_share": rule.labels_overdue.min_share}
    if window.as_of < due or share is None:
        return Finding(False, f"labels for {window.label} are not due yet", details)
    holds = share < rule.labels_overdue.min_share
    return Finding(holds, f"only {share:.0%} of {window.label}'s outcomes are known, "
                          f"{rule.labels_overdue.min_share:.0%} expected by {due.date()}",
                   details)
