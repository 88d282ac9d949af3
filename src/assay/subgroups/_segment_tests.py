"""The slice-against-rest test of one metric (see :mod:`assay.subgroups._segments` for the
statistics and why each was chosen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from assay.metrics._registry import MetricSpec
from assay.subgroups._segment_types import SegmentTest, Slice

__all__ = ["RestComparison", "SliceOutcome"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class SliceOutcome:
    """A tested slice: the rest's value, the slice's impact and its test statistic."""

    slice: Slice
    rest_value: float
    impact: float
    statistic: tuple[float, float]


class RestComparison:
    """The slice-against-rest test of one metric, on data sorted by score."""

    def __init__(
        self,
        spec: MetricSpec,
        y: NDArray[np.int8],
        score: FloatArray,
        weights: FloatArray | None,
        params: Mapping[str, Any],
    ) -> None:
        self.spec, self.y, self.score, self.params = spec, y, score, params
        self.repeats = None if weights is None else weights.astype(np.int64)
        self.weights = np.ones(y.shape[0]) if weights is None else weights
        self.sign = 1.0 if spec.greater_is_better else -1.0
        self.kind: SegmentTest = "delong" if spec.interval == "delong" else "fisher"
        if self.kind == "fisher":
            self.totals = self._counts(np.arange(y.shape[0]))
            return
        # tie groups of the sorted scores, and per group the weight of cases and controls
        self.group = np.concatenate(([0], np.cumsum(np.diff(score) != 0))).astype(np.intp)
        cases = np.bincount(self.group, self.weights * (y == 1)).astype(np.float64)
        controls = np.bincount(self.group, self.weights * (y == 0)).astype(np.float64)
        self.m, self.n = float(cases.sum()), float(controls.sum())
        # a case's placement among all controls, and a control's among all cases
        self.case_place = np.cumsum(controls) - controls / 2
        self.control_place = np.cumsum(cases) - cases / 2
        self.case_sums = _prefix(cases, self.case_place)
        self.control_sums = _prefix(controls, self.control_place)
        auc = float(cases @ self.case_place) / (self.m * self.n)
        self.floor = (
            _spread(cases, self.case_place / self.n - auc, self.m),
            _spread(controls, 1 - self.control_place / self.m - auc, self.n),
        )

    def test(self, rows: IntArray) -> tuple[float, float, tuple[float, float]] | None:
        """The slice's and the rest's values and the test statistic (for :meth:`p_values`),
        or ``None`` when the metric or its variance is undefined in the slice or the rest."""
        if self.kind == "delong":
            return self._auroc(rows)
        successes, trials = self._counts(rows)
        if trials == 0 or trials == self.totals[1]:
            return None
        rest_value = (self.totals[0] - successes) / (self.totals[1] - trials)
        return successes / trials, rest_value, (float(successes), float(trials))

    def p_values(
        self, statistics: list[tuple[float, float]], *, two_sided: bool = False
    ) -> FloatArray:
        """One-sided p-values of the slices being worse than the rest; with ``two_sided``,
        of the slices differing from the rest either way (the DeLong z-test's two tails;
        Fisher's test by doubling the smaller tail)."""
        values = np.array(statistics, dtype=np.float64).reshape(-1, 2)
        if self.kind == "delong":
            z = values[:, 0]
            p = 2 * stats.norm.sf(np.abs(z)) if two_sided else stats.norm.sf(z)
            return np.minimum(np.asarray(p, dtype=np.float64), 1.0)
        successes, trials = values[:, 0], values[:, 1]
        margins = (self.totals[1], self.totals[0], trials)
        fewer = stats.hypergeom.cdf(successes, *margins)  # too few successes in the slice
        more = stats.hypergeom.sf(successes - 1, *margins)
        if two_sided:
            p = 2 * np.minimum(fewer, more)
        else:
            p = fewer if self.sign > 0 else more
        return np.minimum(np.asarray(p, dtype=np.float64), 1.0)

    def _counts(self, rows: IntArray) -> tuple[int, int]:
        """The metric's successes and trials; a row of weight ``k`` counts ``k`` times."""
        if self.repeats is not None:
            rows = np.repeat(rows, self.repeats[rows])
        assert self.spec.counts is not None
        return self.spec.counts(self.y[rows], self.score[rows], **self.params)

    def _auroc(self, rows: IntArray) -> tuple[float, float, tuple[float, float]] | None:
        group = self.group[rows]
        new_group = np.ones(group.shape[0], dtype=bool)
        np.not_equal(group[1:], group[:-1], out=new_group[1:])
        starts = np.flatnonzero(new_group)
        at = group[starts]  # the slice's tie groups, ascending
        cases = np.add.reduceat(self.weights[rows] * (self.y[rows] == 1), starts)
        controls = np.add.reduceat(self.weights[rows] * (self.y[rows] == 0), starts)
        m, n = float(cases.sum()), float(controls.sum())
        m_rest, n_rest = self.m - m, self.n - n
        if min(m, n, m_rest, n_rest) < 2:
            return None
        controls_up_to, cases_up_to = np.cumsum(controls), np.cumsum(cases)
        case_place = controls_up_to - controls / 2  # among the slice's controls
        control_place = cases_up_to - cases / 2
        auc = float(cases @ case_place) / (m * n)
        # the rest's placements among the rest: those among all patients minus the slice's
        rest_case = _rest_sums(self.case_sums, at, controls_up_to, case_place)
        rest_case -= _own_sums(cases, self.case_place[at] - case_place)
        rest_control = _rest_sums(self.control_sums, at, cases_up_to, control_place)
        rest_control -= _own_sums(controls, self.control_place[at] - control_place)
        rest_auc = float(rest_case[0]) / (m_rest * n_rest)
        s10 = _spread(cases, case_place / n - auc, m)
        s01 = _spread(controls, 1 - control_place / m - auc, n)
        rest_s10 = (rest_case[1] / n_rest**2 - m_rest * rest_auc**2) / (m_rest - 1)
        rest_s01 = (rest_control[1] / m_rest**2 - n_rest * (1 - rest_auc) ** 2) / (n_rest - 1)
        floor10, floor01 = self.floor  # see the module notes
        variance = max(s10, floor10) / m + max(s01, floor01) / n
        variance += max(rest_s10, floor10) / m_rest + max(rest_s01, floor01) / n_rest
        if not variance > 0:
            return None
        return auc, rest_auc, (self.sign * (rest_auc - auc) / float(np.sqrt(variance)), 0.0)


def _prefix(weight: FloatArray, place: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Prefix sums over tie groups of ``weight`` and ``weight·place``, and ``Σ weight·place²``."""
    zero = np.zeros(1)
    return (
        np.concatenate([zero, np.cumsum(weight)]),
        np.concatenate([zero, np.cumsum(weight * place)]),
        float(weight @ place**2),
    )


def _rest_sums(
    prefix: tuple[FloatArray, FloatArray, float],
    at: IntArray,
    up_to: FloatArray,
    place_at: FloatArray,
) -> FloatArray:
    """``Σ w (P − S)`` and ``Σ w (P − S)²`` over every tie group, where ``w`` and ``P`` are a
    class's weight and its placement among all of the other class, and ``S`` its placement
    among the slice's other class: ``place_at`` in the slice's groups ``at``, ``up_to`` (the
    slice's weight up to the group) between one slice group and the next, 0 before the first.
    """
    weight, weighted_place, square_total = prefix
    following, after = np.append(at[1:], weight.shape[0] - 1), at + 1
    weight_after, place_after = weight[after], weighted_place[after]
    between, own = weight[following] - weight_after, weight_after - weight[at]
    first = between @ up_to + own @ place_at
    square = between @ up_to**2 + own @ place_at**2
    cross = (weighted_place[following] - place_after) @ up_to
    cross += (place_after - weighted_place[at]) @ place_at
    return np.array([weighted_place[-1] - first, square_total - 2 * cross + square])


def _own_sums(weight: FloatArray, place: FloatArray) -> FloatArray:
    return np.array([weight @ place, weight @ place**2])


def _spread(weight: FloatArray, deviation: FloatArray, size: float) -> float:
    """DeLong's ``S``: the weighted variance of the structural components about the AUROC."""
    return float(weight @ deviation**2) / (size - 1)
