"""Calibration against statsmodels on real data: the logistic recalibration fits (to 1e-7) and
the lowess smoother behind ICI/E90.

About lowess: Assay follows R's C ``clowess`` exactly; statsmodels' port differs from it in two
places, found by reading both sources:

1. kernel: R gives weight 1 to distances ``r <= 0.001 h`` and 0 to ``r > 0.999 h`` and drops
   the slope when the weighted spread of ``x`` is at most ``0.001 × range(x)``; statsmodels
   uses the plain tricube everywhere (a relative effect of about 1e-9 on a local fit);
2. tail: when the last point lies within ``delta`` of the last fit, R fits the last point next
   and interpolates the points in between; statsmodels also fits the second-to-last point.

The scalar restatement of the algorithm below (``_clowess``) switches both, so the tests show
(a) with statsmodels' two choices it reproduces statsmodels to 1e-12, (b) with R's choices it
reproduces Assay's vectorised implementation to 1e-12, and (c) Assay against statsmodels
directly: within 1e-9 when no point is skipped, and outside the last ``delta`` of the range
with the default ``delta``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.typing import NDArray
from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess

import assay.metrics as am
from assay.errors import UndefinedMetricError
from assay.metrics._lowess import lowess

FloatArray = NDArray[np.float64]
DATASETS = ["breast_cancer", "support2", "support2_model_estimate"]


@pytest.fixture(params=DATASETS)
def binary(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def _inside(data: Any) -> tuple[NDArray[Any], FloatArray]:
    """Rows whose probability is strictly between 0 and 1 (finite logit)."""
    keep = (data.p > 0) & (data.p < 1)
    return data.y[keep], data.p[keep]


def _logit(p: FloatArray) -> FloatArray:
    return np.asarray(np.log(p / (1 - p)))


@pytest.mark.parametrize("weighting", ["unweighted", "integer", "continuous"])
def test_slope_and_intercept_match_statsmodels_glm(binary: Any, weighting: str) -> None:
    keep = (binary.p > 0) & (binary.p < 1)
    y, p = binary.y[keep], binary.p[keep]
    w = {"unweighted": None, "integer": binary.integer_weight, "continuous": binary.weight}[
        weighting
    ]
    w = None if w is None else w[keep]
    family = sm.families.Binomial()
    slope_fit = sm.GLM(y, sm.add_constant(_logit(p)), family=family, freq_weights=w).fit(tol=1e-13)
    intercept_fit = sm.GLM(
        y, np.ones((y.size, 1)), family=family, offset=_logit(p), freq_weights=w
    ).fit(tol=1e-13)
    assert am.calibration_slope(y, p, sample_weight=w) == pytest.approx(
        slope_fit.params[1], abs=1e-7
    )
    assert am.calibration_intercept(y, p, sample_weight=w) == pytest.approx(
        intercept_fit.params[0], abs=1e-7
    )


def test_certain_predictions_make_the_logit_fits_undefined(support2_model_estimate: Any) -> None:
    data = support2_model_estimate
    extreme = int(np.sum((data.p == 0) | (data.p == 1)))
    assert extreme > 0
    for metric in (am.calibration_slope, am.calibration_intercept):
        with pytest.raises(UndefinedMetricError, match=f"^{extreme} rows have a predicted"):
            metric(data.y, data.p)


def _clowess(
    x: FloatArray,
    y: FloatArray,
    *,
    delta: float,
    r_kernel: bool,
    r_tail: bool,
    frac: float = 2 / 3,
) -> FloatArray:
    """Cleveland's lowess (no robustness step) on sorted ``x``, one point at a time.

    ``r_kernel`` and ``r_tail`` choose R's behaviour (True) or statsmodels' (False) at the two
    places where they differ (see the module docstring).
    """
    n = x.size
    span = max(2, min(n, int(frac * n + 1e-7)))
    x_range = x[-1] - x[0]
    fitted = np.empty(n)
    left, right, last, i = 0, span - 1, -1, 0
    while True:
        # slide the window right while that brings its far end closer to x[i]
        while right < n - 1 and x[i] - x[left] > x[right + 1] - x[i]:
            left, right = left + 1, right + 1
        h = max(x[i] - x[left], x[right] - x[i])
        if r_kernel:
            # from the window's left end, take points until one beyond x[i] is too far
            candidates = np.arange(left, n)
            r = np.abs(x[candidates] - x[i])
            too_far = np.flatnonzero((r > 0.999 * h) & (x[candidates] > x[i]))
            stop = candidates[too_far[0]] if too_far.size else n
            idx = np.arange(left, stop)
            r = np.abs(x[idx] - x[i])
            w = np.where(r <= 0.001 * h, 1.0, (1 - (r / max(h, 1e-300)) ** 3) ** 3)
            w[r > 0.999 * h] = 0.0
        else:
            idx = np.arange(left, right + 1)
            w = (1 - (np.abs(x[idx] - x[i]) / h) ** 3) ** 3
        w = w / w.sum()
        centre = np.sum(w * x[idx])
        spread = np.sum(w * (x[idx] - centre) ** 2)
        if r_kernel:
            use_slope = h > 0 and np.sqrt(spread) > 0.001 * x_range
        else:
            spread, use_slope = max(spread, 1e-12), True
        if use_slope:
            w = w * (1 + (x[i] - centre) / spread * (x[idx] - centre))
        fitted[i] = np.sum(w * y[idx])
        if last < i - 1:
            alpha = (x[last + 1 : i] - x[last]) / (x[i] - x[last])
            fitted[last + 1 : i] = alpha * fitted[i] + (1 - alpha) * fitted[last]
        last = i
        j = last + 1
        while j < n and x[j] <= x[last] + delta:
            if x[j] == x[last]:
                fitted[j], last = fitted[last], j
            j += 1
        if last >= n - 1:
            return fitted
        i = max(last + 1, j - 1 if (j < n or r_tail) else n - 2)


def _sorted(data: Any) -> tuple[FloatArray, FloatArray]:
    order = np.argsort(data.p, kind="stable")
    return data.p[order], data.y[order].astype(np.float64)


@pytest.mark.parametrize("default_delta", [True, False])
def test_the_scalar_algorithm_with_statsmodels_choices_is_statsmodels(
    binary: Any, default_delta: bool
) -> None:
    x, y = _sorted(binary)
    delta = 0.01 * float(np.ptp(x)) if default_delta else 0.0
    expected = sm_lowess(y, x, frac=2 / 3, it=0, delta=delta, return_sorted=False)
    got = _clowess(x, y, delta=delta, r_kernel=False, r_tail=False)
    np.testing.assert_allclose(got, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("default_delta", [True, False])
def test_lowess_is_the_scalar_algorithm_with_r_choices(binary: Any, default_delta: bool) -> None:
    x, y = _sorted(binary)
    delta = 0.01 * float(np.ptp(x)) if default_delta else 0.0
    expected = _clowess(x, y, delta=delta, r_kernel=True, r_tail=True)
    got = lowess(x, y, delta=None if default_delta else 0.0)
    np.testing.assert_allclose(got, expected, atol=1e-12, rtol=0)


def test_lowess_matches_statsmodels_when_every_point_is_fitted(binary: Any) -> None:
    x, y = binary.p, binary.y.astype(np.float64)
    expected = sm_lowess(y, x, frac=2 / 3, it=0, delta=0.0, return_sorted=False)
    # the remaining gap is R's 0.001h / 0.999h kernel clamps (measured at most 2.4e-10)
    np.testing.assert_allclose(lowess(x, y, delta=0.0), expected, atol=1e-9, rtol=0)


def test_lowess_matches_statsmodels_outside_the_tail(binary: Any) -> None:
    x, y = binary.p, binary.y.astype(np.float64)
    delta = 0.01 * float(np.ptp(x))
    expected = sm_lowess(y, x, frac=2 / 3, it=0, delta=delta, return_sorted=False)
    got = lowess(x, y)  # R's default delta
    tail = x > x.max() - delta
    np.testing.assert_allclose(got[~tail], expected[~tail], atol=1e-9, rtol=0)
    np.testing.assert_allclose(got[tail], expected[tail], atol=1e-5, rtol=0)


def test_lowess_on_many_ties_matches_the_scalar_algorithm() -> None:
    rng = np.random.default_rng(7)
    x = np.sort(rng.integers(0, 40, size=600) / 40.0)  # 40 distinct values, many ties
    y = (rng.random(600) < x).astype(np.float64)
    for delta in (0.0, 0.01, 0.05):
        expected = _clowess(x, y, delta=delta, r_kernel=True, r_tail=True)
        np.testing.assert_allclose(lowess(x, y, delta=delta), expected, atol=1e-12, rtol=0)
