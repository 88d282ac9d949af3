"""The regression gate: a candidate against the accepted baseline on the same gold set.

Each metric is compared by its mean over the items where both sides have a value, with a paired
bootstrap interval of the change; each flag type by the share of items flagged on each side
(Wilson intervals) and McNemar's test on the items flagged on one side only. Zero-tolerance flag
types fail the gate whenever the candidate has one. The spec and the result are in
:mod:`assay.genai._gate_spec`.

Paired bootstrap
----------------
Each replicate draws the ``n`` items with replacement, the same draw for both sides, so the
correlation of an item's two scores is kept. The draws come from one uniform stream of
``Generator(SFC64(SeedSequence(seed)))``: replicate ``r`` takes the ``n`` numbers ``u`` after
the first ``r·n`` and draws the positions ``⌊n·u⌋`` (uniform up to rounding of order
``2⁻⁵³``). Replicates are drawn in blocks (vectorised) yet depend only on ``seed``; the first
``B`` are the same whatever ``n_boot``. The interval is the percentile interval (quantiles with
linear interpolation) of the replicated means.

McNemar's test
--------------
With ``b`` items flagged in the baseline only and ``c`` in the candidate only: for
``b + c < 25`` the exact binomial p-value ``min(1, 2·P(X ≤ min(b, c)))``, ``X ~ Bin(b + c, ½)``;
otherwise the chi-square statistic with continuity correction ``(|b − c| − 1)² / (b + c)`` on one
degree of freedom (Edwards 1948). These are the numbers of ``statsmodels``' ``mcnemar``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from assay.errors import InputError
from assay.genai._gate_spec import (
    CheckStatus,
    FlagChange,
    FlagRule,
    GateCheck,
    GateResult,
    GateSpec,
    McNemarTest,
    MetricChange,
    MetricRule,
)
from assay.genai._records import ItemResult
from assay.metrics import Estimate
from assay.metrics.intervals import proportion_estimate
from assay.reports._format import format_bounds, format_value, p_value_text

__all__ = ["mcnemar", "regression_gate", "resampled_means"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
EXACT_BELOW = 25
"""McNemar's test is exact below this many discordant items, chi-square from it on."""
_BLOCK_DRAWS = 1 << 21


def regression_gate(baseline: Sequence[ItemResult], candidate: Sequence[ItemResult], *,
            spec: GateSpec | Mapping[str, Any] | None = None, seed: int = 0,
            allow_unpaired: bool = False) -> GateResult:
    """Decide whether a candidate regressed from the baseline on the same gold set.

    Items are paired by id. A metric fails when the interval of its mean change lies entirely
    on the worse side of ``−margin`` and warns when only the point change does; a flag type
    fails when the candidate flags significantly more items (McNemar, ``p < alpha``) and warns
    when it flags more without significance; a zero-tolerance flag type fails when any
    candidate item has it. See the module notes for the statistics.

    Parameters
    ----------
    baseline, candidate
        The item results of the accepted version and of the new one.
    spec
        A :class:`GateSpec` (or a mapping validated into one); the defaults when omitted.
    seed
        Seed of the bootstrap (a non-negative integer).
    allow_unpaired
        Compare only the shared items instead of raising when the ids differ. Zero-tolerance
        flags count on every candidate item, paired or not.

    Raises
    ------
    InputError
        When an id repeats, the ids of the two sides differ (unless ``allow_unpaired``), an
        item has another task on the other side, a metric value is not finite, or the spec
        names a metric no item has.
    """
    rules = spec if isinstance(spec, GateSpec) else GateSpec.from_dict(spec or {})
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    base, cand = _by_id(baseline, "baseline"), _by_id(candidate, "candidate")
    ids = [i for i in base if i in cand]
    only_base = [i for i in base if i not in cand]
    only_cand = [i for i in cand if i not in base]
    if ((only_base or only_cand) and not allow_unpaired) or not ids:
        raise InputError(_unpaired_message(only_base, only_cand, len(ids)))
    for i in ids:
        if base[i].task != cand[i].task:
            raise InputError(f"item {i!r} is {base[i].task!r} in the baseline but "
                             f"{cand[i].task!r} in the candidate")
    pairs = [(base[i], cand[i]) for i in ids]
    checks = [_metric_check(name, rule, pairs, rules, seed)
              for name, rule in _metric_rules(rules, pairs).items()]
    flag_types = sorted({f.type for items in (base.values(), cand.values()) for item in items
                         for f in item.flags} | set(rules.flags) | set(rules.zero_tolerance))
    for flag_type in flag_types:
        flagged = tuple(i for i, item in cand.items() if any(f.type == flag_type
                                                             for f in item.flags))
        checks.append(_flag_check(flag_type, pairs, rules, flagged))
    return GateResult(decision="fail" if any(c.status == "fail" for c in checks) else "pass",
                      checks=tuple(checks), n_paired=len(ids), n_baseline_only=len(only_base),
                      n_candidate_only=len(only_cand), spec=rules, seed=seed)


def resampled_means(values: FloatArray, n_boot: int, seed: int) -> FloatArray:
    """The column means of ``values`` (``n × k``) over ``n_boot`` paired resamples of its rows
    (``n_boot × k``), drawn as in the module notes."""
    n = values.shape[0]
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed)))
    means = np.empty((n_boot, values.shape[1]))
    block = max(1, _BLOCK_DRAWS // max(n, 1))
    for start in range(0, n_boot, block):
        stop = min(n_boot, start + block)
        rows = np.minimum((rng.random((stop - start, n)) * n).astype(np.intp), n - 1)
        for column in range(values.shape[1]):
            means[start:stop, column] = values[:, column][rows].mean(axis=1)
    return means


def mcnemar(baseline_only: int, candidate_only: int) -> tuple[McNemarTest, float, float]:
    """McNemar's test on the discordant counts: the test used, its statistic and p-value
    (exact binomial below 25 discordant items, statistic ``min(b, c)``; else continuity-
    corrected chi-square)."""
    b, c = int(baseline_only), int(candidate_only)
    if b + c < EXACT_BELOW:
        return "exact", float(min(b, c)), float(min(1.0, 2 * stats.binom.cdf(min(b, c), b + c,
                                                                              0.5)))
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    return "chi-square", float(statistic), float(stats.chi2.sf(statistic, 1))


def _by_id(items: Sequence[ItemResult], side: str) -> dict[str, ItemResult]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise InputError(f"{side} must be a sequence of ItemResult, got {type(items).__name__}")
    found: dict[str, ItemResult] = {}
    for position, item in enumerate(items, start=1):
        if not isinstance(item, ItemResult):
            raise InputError(f"{side}, item {position}: expected an ItemResult, got "
                             f"{type(item).__name__}")
        if item.id in found:
            raise InputError(f"{side}, item {position}: id {item.id!r} appears twice")
        found[item.id] = item
    return found


def _unpaired_message(only_base: list[str], only_cand: list[str], shared: int) -> str:
    def few(ids: list[str]) -> str:
        shown = ", ".join(repr(i) for i in ids[:5])
        return shown + (", ..." if len(ids) > 5 else "")

    parts = [f"{len(ids)} item(s) only in the {side} ({few(ids)})"
             for side, ids in (("baseline", only_base), ("candidate", only_cand)) if ids]
    if not shared:
        return ("baseline and candidate share no item id; they must be evaluated on the same "
                "gold set" + (f": {' and '.join(parts)}" if parts else ""))
    return (f"baseline and candidate must be evaluated on the same gold set: "
            f"{' and '.join(parts)}; pass allow_unpaired=True to compare the {shared} "
            "shared items")


DESCRIPTIVE = frozenset({"length_words"})
"""Metrics that describe rather than score: compared only when the spec names them."""
DEFAULT_RULES = {"readability_grade": MetricRule(direction="lower")}
"""Metrics where lower is better, when the spec names no metrics."""


def _metric_rules(spec: GateSpec, pairs: list[tuple[ItemResult, ItemResult]]
                  ) -> dict[str, MetricRule]:
    found = sorted({name for pair in pairs for item in pair for name in item.metrics})
    unknown = [name for name in spec.metrics if name not in found]
    if unknown:
        raise InputError(f"the gate spec names metric(s) {', '.join(map(repr, unknown))} that no "
                         f"paired item has (metrics found: {', '.join(found) or 'none'})")
    if spec.metrics:
        return dict(spec.metrics)
    return {name: DEFAULT_RULES.get(name, MetricRule()) for name in found
            if name not in DESCRIPTIVE}


def _values(name: str, items: list[ItemResult], side: str) -> FloatArray:
    values = np.array([np.nan if item.metrics.get(name) is None else item.metrics[name]
                       for item in items], dtype=np.float64)
    given = np.array([item.metrics.get(name) is not None for item in items], dtype=bool)
    bad = np.flatnonzero(given & ~np.isfinite(values))
    if bad.size:
        first = items[int(bad[0])]
        raise InputError(f"{side}, item {first.id!r}: metric {name!r} is {values[bad[0]]} "
                         f"({bad.size} item(s) like it); a value must be finite, or None when "
                         "the metric does not apply")
    return values


def _metric_check(name: str, rule: MetricRule, pairs: list[tuple[ItemResult, ItemResult]],
                  spec: GateSpec, seed: int) -> GateCheck:
    before = _values(name, [b for b, _ in pairs], "baseline")
    after = _values(name, [c for _, c in pairs], "candidate")
    both = ~np.isnan(before) & ~np.isnan(after)
    n, excluded = int(both.sum()), int((~both).sum())
    if n == 0:
        return GateCheck(kind="metric", name=name, status="warn",
                         reason=f"{name}: no paired item has a value on both sides "
                                f"({excluded} items); not compared")
    columns = np.column_stack([before[both], after[both], after[both] - before[both]])
    means = resampled_means(columns, spec.n_boot, seed)
    bounds = np.quantile(means, [(1 - spec.level) / 2, (1 + spec.level) / 2], axis=0)

    def estimate(column: int) -> Estimate:
        return Estimate(value=float(columns[:, column].mean()), ci_low=float(bounds[0, column]),
                        ci_high=float(bounds[1, column]), level=spec.level,
                        method="bootstrap-percentile", n=n)

    change = MetricChange(baseline=estimate(0), candidate=estimate(1), change=estimate(2),
                          margin=rule.margin, direction=rule.direction, n_excluded=excluded,
                          n_boot=spec.n_boot)
    sign = 1.0 if rule.direction == "higher" else -1.0
    gain, gain_best = sign * change.change.value, max(sign * bounds[0, 2], sign * bounds[1, 2])
    status: CheckStatus = ("fail" if gain_best < -rule.margin
                           else "warn" if gain < -rule.margin else "pass")
    return GateCheck(kind="metric", name=name, status=status,
                     reason=_metric_reason(name, change, status), metric=change)


def _metric_reason(name: str, change: MetricChange, status: CheckStatus) -> str:
    delta = change.change
    verb = "rose" if delta.value > 0 else "fell" if delta.value < 0 else "did not change"
    margin = format_value(change.margin)
    side = "below −" if change.direction == "higher" else "above +"
    judged = {"fail": f"entirely {side}{margin} (the margin): a regression",
              "warn": f"the change is worse than the margin {margin} but its interval is not "
                      "entirely beyond it",
              "pass": f"not entirely {side}{margin} (the margin)"}[status]
    excluded = f", {change.n_excluded} without a value excluded" if change.n_excluded else ""
    return (f"{name} ({change.direction} is better) {verb} from {_text(change.baseline)} to "
            f"{_text(change.candidate)}: change {_text(delta, signed=True)}, {judged}; "
            f"{delta.n:,} paired items{excluded}")


def _text(e: Estimate, *, signed: bool = False) -> str:
    text = format_bounds(e.value, e.ci_low, e.ci_high)
    return ("+" + text) if signed and e.value > 0 else text


def _flag_check(flag_type: str, pairs: list[tuple[ItemResult, ItemResult]], spec: GateSpec,
                candidate_ids: tuple[str, ...]) -> GateCheck:
    flagged = np.array([[any(f.type == flag_type for f in item.flags) for item in pair]
                        for pair in pairs], dtype=bool)
    before, after = flagged[:, 0], flagged[:, 1]
    b, c = int((before & ~after).sum()), int((after & ~before).sum())
    test, statistic, p_value = mcnemar(b, c)
    rule = spec.flags.get(flag_type, FlagRule())
    alpha = spec.alpha if rule.alpha is None else rule.alpha
    zero = flag_type in spec.zero_tolerance
    change = FlagChange(
        baseline=_rate(before, spec.level), candidate=_rate(after, spec.level),
        n_baseline_only=b, n_candidate_only=c, test=test, statistic=statistic, p_value=p_value,
        alpha=alpha, zero_tolerance=zero, candidate_ids=candidate_ids,
        candidate_only_ids=tuple(pairs[i][1].id for i in np.flatnonzero(after & ~before)))
    status: CheckStatus = ("fail" if (zero and candidate_ids) or (c > b and p_value < alpha)
                           else "warn" if c > b else "pass")
    return GateCheck(kind="flag", name=flag_type, status=status, flag=change,
                     reason=_flag_reason(flag_type, change, status))


def _rate(flagged: BoolArray, level: float) -> Estimate:
    return proportion_estimate(int(flagged.sum()), int(flagged.size), level)


def _percent(e: Estimate) -> str:
    return f"{100 * e.value:.1f}% ({100 * (e.ci_low or 0):.1f}–{100 * (e.ci_high or 0):.1f}%)"


def _flag_reason(flag_type: str, change: FlagChange, status: CheckStatus) -> str:
    b, c, ids = change.n_baseline_only, change.n_candidate_only, change.candidate_ids
    verb = "rose" if c > b else "fell" if c < b else "did not change"
    test = "exact" if change.test == "exact" else "chi-square (continuity-corrected)"
    shares = (f"items flagged {flag_type} {verb} from {_percent(change.baseline)} to "
              f"{_percent(change.candidate)}; McNemar {test} {p_value_text(change.p_value)} on "
              f"{b + c} discordant items ({b} flagged in the baseline only, {c} in the "
              "candidate only)")
    if change.zero_tolerance and ids:
        named = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        return (f"{flag_type} is zero-tolerance and the candidate has it on {len(ids)} "
                f"item(s) ({named}); the baseline on {change.baseline.n_events} paired item(s)")
    if change.zero_tolerance:
        return (f"{flag_type} is zero-tolerance and no candidate item has it (the baseline "
                f"has it on {change.baseline.n_events} of {change.baseline.n:,} paired items)")
    alpha = {"fail": f"; significant at alpha = {change.alpha:g}", "pass": "",
             "warn": f"; not significant at alpha = {change.alpha:g}"}[status]
    return f"Share of {shares}{alpha}"
