"""The standard evaluation every run carries: each metric of each score with its interval,
pairwise comparisons of scores, and the curves the report draws."""

from __future__ import annotations

import inspect
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from assay.checks._plan import Settings
from assay.checks._run import MetricRecord
from assay.data import Dataset
from assay.errors import UndefinedMetricError
from assay.metrics import (
    Curve,
    Estimate,
    IntervalChoice,
    MetricSpec,
    PairedComparison,
    calibration_curve,
    compare,
    decision_curve,
    estimate,
    get_metric,
    list_metrics,
    pr_curve,
    reliability_curve,
    roc_curve,
    threshold_table,
)
from assay.subgroups import FairnessAudit, MultiplicityMethod, fairness_audit, metric_by_group

THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.05, 1.0, 0.05))


def derived_seed(seed: int, *parts: object) -> int:
    """A seed for one computation, stable under adding or removing other computations."""
    key = "|".join(map(str, (seed, *parts))).encode()
    return zlib.crc32(key)


class Evaluator:
    """Computes estimates for one dataset and settings, each at most once."""

    def __init__(self, data: Dataset, settings: Settings) -> None:
        self.data = data
        self.settings = settings
        self._cache: dict[tuple[Any, ...], Estimate] = {}

    def applicable(self, spec: MetricSpec, score: str) -> str | None:
        """Why a metric does not apply to a score, or ``None`` when it does."""
        if spec.score_kind == "probability" and not self.data.is_probability(score):
            return (f"score {score!r} is not a probability (values outside 0–1); "
                    "probability metrics do not apply")
        return None

    def estimate(self, metric: str, score: str, *, threshold: float | None = None,
                 ci: IntervalChoice = "auto", params: Mapping[str, Any] | None = None) -> Estimate:
        """The metric of a score with its interval; raises UndefinedMetricError."""
        params = dict(params or {})
        if threshold is not None:
            params["threshold"] = threshold
        key = (metric, score, ci, tuple(sorted(params.items())))
        if key not in self._cache:
            self._cache[key] = estimate(
                metric, self.data.y, self.data.scores[score], ci=ci,
                level=self.settings.level, n_boot=self.settings.n_boot,
                bootstrap_method=self.settings.bootstrap_method,
                seed=derived_seed(self.settings.seed, *key),
                sample_weight=self.data.weights, **params,
            )
        return self._cache[key]

    def compare(self, metric: str, a: str, b: str, *,
                threshold: float | None = None) -> PairedComparison:
        """Paired comparison of two scores (difference a − b)."""
        params: dict[str, Any] = {} if threshold is None else {"threshold": threshold}
        return compare(
            metric, self.data.y, self.data.scores[a], self.data.scores[b], a=a, b=b,
            level=self.settings.level, n_boot=self.settings.n_boot,
            seed=derived_seed(self.settings.seed, "compare", metric, a, b, threshold),
            sample_weight=self.data.weights, **params,
        )

    def fairness(self, criterion: str, score: str, by: str, *, threshold: float | None,
                 reference: str | None, tolerance: float,
                 correction: MultiplicityMethod) -> FairnessAudit:
        """A named fairness criterion of a score across the groups of ``by``."""
        columns = list(dict.fromkeys(by.split("*")))
        return fairness_audit(
            criterion, self.data.y, self.data.scores[score], self.data.frame[columns],
            attribute=by, threshold=threshold, reference=reference, tolerance=tolerance,
            correction=correction, level=self.settings.level, n_boot=self.settings.n_boot,
            seed=derived_seed(self.settings.seed, "fairness", criterion, score, by, threshold),
            sample_weight=self.data.weights,
            small_cell_threshold=self.settings.small_cell_threshold,
        )

    def metric_records(
        self, thresholds: Mapping[str, Mapping[str, float]]
    ) -> list[MetricRecord]:
        """Every registered metric of the task, for every score, at each of its thresholds.

        ``thresholds`` maps each score to its named thresholds.
        """
        records: list[MetricRecord] = []
        for score in self.data.score_names:
            for name in list_metrics(self.data.roles.task):
                spec = get_metric(name)
                if "threshold" in spec.params:
                    if not thresholds[score]:
                        records.append(self._record(
                            score, name, None, status="skipped",
                            reason=f"no operating threshold was given for {score!r}"))
                    for value in dict.fromkeys(thresholds[score].values()):
                        records.append(self._measure(spec, score, value))
                elif _has_defaults(spec):
                    records.append(self._measure(spec, score, None))
        return records

    def group_records(
        self, overall: Sequence[MetricRecord], groupings: Sequence[str]
    ) -> list[MetricRecord]:
        """Each measured metric of :meth:`metric_records` again in every group of each grouping
        (a column, or columns joined by ``*`` for their intersection), by the same interval
        methods, with the small-cell ``suppressed`` flag; empty intersections are kept."""
        if not groupings:
            return []
        singles = [g for g in groupings if "*" not in g]
        intersections = [tuple(g.split("*")) for g in groupings if "*" in g]
        columns = list(dict.fromkeys(p for g in groupings for p in g.split("*")))
        frame = self.data.frame[columns]
        records: list[MetricRecord] = []
        for record in overall:
            if record.status == "skipped":
                continue
            params: dict[str, Any] = ({} if record.threshold is None
                                      else {"threshold": record.threshold})
            table = metric_by_group(
                record.metric, self.data.y, self.data.scores[record.score], frame,
                intersections=intersections, level=self.settings.level,
                n_boot=self.settings.n_boot,
                seed=derived_seed(self.settings.seed, "groups", record.metric, record.score,
                                  record.threshold),
                sample_weight=self.data.weights,
                small_cell_threshold=self.settings.small_cell_threshold, **params)
            for row in table.rows:
                if row.group is None or ("*" not in row.group and row.group not in singles):
                    continue
                records.append(MetricRecord(
                    score=record.score, metric=record.metric, threshold=record.threshold,
                    value=row.value, ci_low=row.ci_low, ci_high=row.ci_high,
                    level=row.level, method=row.method, n=row.n or 0,
                    n_events=row.n_positive, status=row.status,
                    reason=row.reason, group=row.group, group_value=row.group_value,
                    suppressed=row.suppressed, p_value=row.p_value, p_holm=row.p_holm,
                    p_bh=row.p_bh))
        return records

    def _measure(self, spec: MetricSpec, score: str, threshold: float | None) -> MetricRecord:
        reason = self.applicable(spec, score)
        if reason:
            return self._record(score, spec.name, threshold, status="skipped", reason=reason)
        try:
            result = self.estimate(spec.name, score, threshold=threshold)
        except UndefinedMetricError as exc:
            return self._record(score, spec.name, threshold, status="undefined", reason=str(exc))
        return MetricRecord(score=score, metric=spec.name, threshold=threshold,
                            **result.model_dump())

    def _record(self, score: str, metric: str, threshold: float | None, *,
                status: Literal["skipped", "undefined"], reason: str) -> MetricRecord:
        return MetricRecord(score=score, metric=metric, value=None, n=self.data.n,
                            n_events=self.data.n_events, threshold=threshold,
                            status=status, reason=reason)

    def comparisons(self) -> list[PairedComparison]:
        """AUROC of every pair of scores, by DeLong's test."""
        names = self.data.score_names
        if self.data.roles.task != "binary":
            return []
        return [self.compare("auroc", a, b) for i, a in enumerate(names) for b in names[i + 1:]]

    def curves(
        self, thresholds: Mapping[str, Mapping[str, float]]
    ) -> dict[str, dict[str, Curve]]:
        """The report's curves for each score (binary task only), with the threshold table
        at a standard grid plus the score's named thresholds."""
        if self.data.roles.task != "binary":
            return {}
        y, level, seed = self.data.y, self.settings.level, self.settings.seed
        drawn: dict[str, dict[str, Curve]] = {}
        for score in self.data.score_names:
            s = self.data.scores[score]
            curves = {"roc": roc_curve(y, s), "pr": pr_curve(y, s)}
            if self.data.is_probability(score):
                grid = sorted({*THRESHOLD_GRID, *thresholds[score].values()})
                curves["calibration"] = calibration_curve(
                    y, s, level=level, seed=derived_seed(seed, "calibration", score))
                curves["reliability"] = reliability_curve(y, s, level=level)
                curves["decision"] = decision_curve(y, s)
            else:
                grid = sorted({*_quantile_grid(s), *thresholds[score].values()})
            curves["threshold"] = threshold_table(y, s, grid, level=level)
            drawn[score] = curves
        return drawn


def _has_defaults(spec: MetricSpec) -> bool:
    """Whether every parameter of a metric has a default, so the table can report it."""
    signature = inspect.signature(spec.fn)
    return all(signature.parameters[name].default is not inspect.Parameter.empty
               for name in spec.params)


def _quantile_grid(score: NDArray[np.float64]) -> list[float]:
    """Thresholds at the score's deciles, for scores that are not probabilities."""
    deciles = np.quantile(score, np.linspace(0.1, 0.9, 9))
    return [float(v) for v in np.unique(np.round(deciles, 6))]
