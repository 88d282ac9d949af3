"""Sequential change detection on a stream of per-window metric values: CUSUM and Page-Hinkley.

Each monitoring window gives a metric value ``x_t`` (for example the week's AUROC) with its
standard error ``se_t``; the reference value ``mu0`` is the metric on the validation data. Both
detectors read the standardised values

.. math:: z_t = \\frac{x_t - \\mu_0}{\\sqrt{se_t^2 + se_{ref}^2}}

which are N(0, 1) while the metric stays at its reference value. The false-alarm budget is the
in-control average run length ``ARL0``: the expected number of windows between false alarms.
The default, 520 windows, is ten years of weekly windows: about one false alarm per decade for
one metric, so that a dashboard of a few metrics and subgroups still raises false alarms rarely
enough to be investigated rather than ignored.

- :class:`Cusum`: two-sided tabular CUSUM (Page, 1954) on ``z``, in-control mean 0. It asks
  "has the metric moved away from its validation value?". The threshold ``h`` comes from
  Siegmund's (1985) approximation of the ARL (see ``_calibrate``).
- :class:`PageHinkley`: the classic Page-Hinkley test (Hinkley, 1971; as in Gama et al., 2014)
  on ``z`` with the *running mean* since the last alarm in place of a known mean. It asks
  "has the metric changed during monitoring?": it ignores a constant offset between validation
  and production (a validation value slightly off, or an unmodelled reference uncertainty), and
  for the same reason it cannot see a change that was already there at the first window; use
  CUSUM for that. (With a known mean 0 the test would be the CUSUM itself.) Its threshold
  ``lambda_`` is calibrated by a seeded Monte Carlo on N(0, 1) streams (see ``_calibrate``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.errors import InputError
from assay.monitoring._calibrate import (
    DEFAULT_ARL0,
    calibrate_cusum_h,
    calibrate_page_hinkley,
    cusum_arl,
    page_hinkley_arl,
)

__all__ = [
    "Cusum",
    "PageHinkley",
    "SequentialResult",
    "SequentialWindow",
    "detect",
]

FloatArray = NDArray[np.float64]
Direction = Literal["up", "down"]
SequentialMethod = Literal["cusum", "page_hinkley"]


class _Detector(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    arl0: float | None = Field(default=None, gt=1)
    """Expected windows between false alarms; :data:`DEFAULT_ARL0` when no threshold is given."""

    def _given_threshold(self) -> float | None:
        raise NotImplementedError

    @model_validator(mode="after")
    def _threshold_or_budget(self) -> _Detector:
        if self._given_threshold() is not None and self.arl0 is not None:
            raise ValueError("give either the threshold or arl0, not both: the threshold is "
                             "calibrated from arl0")
        return self


class Cusum(_Detector):
    """Two-sided tabular CUSUM on standardised values.

    ``S+ = max(0, S+ + z - k)``, ``S- = max(0, S- - z - k)``; an alarm when either exceeds ``h``,
    after which both restart at 0. ``k`` is half the shift (in standard errors) the chart is
    tuned to detect; ``h`` is calibrated from ``arl0`` unless given.
    """

    method: Literal["cusum"] = "cusum"
    k: float = Field(default=0.5, ge=0)
    h: float | None = Field(default=None, gt=0)

    def _given_threshold(self) -> float | None:
        return self.h

    @property
    def allowance(self) -> float:
        return self.k

    @property
    def threshold(self) -> float:
        """``h``, calibrated from the false-alarm budget when not given."""
        if self.h is not None:
            return self.h
        return calibrate_cusum_h(self.in_control_arl, self.k)

    @property
    def in_control_arl(self) -> float:
        """``arl0``; for a given ``h``, its Siegmund ARL."""
        if self.h is not None:
            return cusum_arl(self.h, self.k)
        return DEFAULT_ARL0 if self.arl0 is None else self.arl0


class PageHinkley(_Detector):
    """Two-sided Page-Hinkley test on standardised values, with the running mean.

    With ``m̄_t`` the mean of the values since the last alarm (``z_t`` included),
    ``U_t = Σ (z - m̄ - delta)`` and ``L_t = Σ (z - m̄ + delta)``; the statistics are
    ``PH+ = U_t - min(0, U_1..U_t)`` and ``PH- = max(0, L_1..L_t) - L_t``. An alarm when either
    exceeds ``lambda_``, after which the sums and the mean restart.
    """

    method: Literal["page_hinkley"] = "page_hinkley"
    delta: float = Field(default=0.5, ge=0)
    lambda_: float | None = Field(default=None, gt=0)

    def _given_threshold(self) -> float | None:
        return self.lambda_

    @property
    def allowance(self) -> float:
        return self.delta

    @property
    def threshold(self) -> float:
        """``lambda_``, calibrated from the false-alarm budget when not given."""
        if self.lambda_ is not None:
            return self.lambda_
        return calibrate_page_hinkley(self.in_control_arl, self.delta)

    @property
    def in_control_arl(self) -> float:
        """``arl0``; for a given ``lambda_``, its Monte Carlo ARL."""
        if self.lambda_ is not None:
            return page_hinkley_arl(self.lambda_, self.delta)
        return DEFAULT_ARL0 if self.arl0 is None else self.arl0


def run_detector(
    z: ArrayLike, method: SequentialMethod, allowance: float, threshold: float
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Upper and lower statistics and alarms of many streams at once, shape ``(streams, windows)``.

    NaN values are skipped: the state carries over unchanged. The statistics are those of the
    window, before the restart an alarm causes.
    """
    values = np.atleast_2d(np.asarray(z, dtype=np.float64))
    streams, windows = values.shape
    upper_path, lower_path = np.zeros((streams, windows)), np.zeros((streams, windows))
    alarms = np.zeros((streams, windows), dtype=np.bool_)
    count, mean = np.zeros(streams), np.zeros(streams)
    upper_sum, upper_min = np.zeros(streams), np.zeros(streams)
    lower_sum, lower_max = np.zeros(streams), np.zeros(streams)
    upper, lower = np.zeros(streams), np.zeros(streams)
    for t in range(windows):
        seen = ~np.isnan(values[:, t])
        x = np.where(seen, values[:, t], 0.0)
        if method == "cusum":
            upper = np.where(seen, np.maximum(0.0, upper + x - allowance), upper)
            lower = np.where(seen, np.maximum(0.0, lower - x - allowance), lower)
        else:
            count = count + seen
            mean = np.where(seen, mean + (x - mean) / np.maximum(count, 1.0), mean)
            upper_sum = np.where(seen, upper_sum + x - mean - allowance, upper_sum)
            lower_sum = np.where(seen, lower_sum + x - mean + allowance, lower_sum)
            upper_min = np.minimum(upper_min, upper_sum)
            lower_max = np.maximum(lower_max, lower_sum)
            upper, lower = upper_sum - upper_min, lower_max - lower_sum
        upper_path[:, t], lower_path[:, t] = upper, lower
        alarm = seen & ((upper > threshold) | (lower > threshold))
        alarms[:, t] = alarm
        if alarm.any():
            for state in (upper, lower, count, mean, upper_sum, upper_min, lower_sum, lower_max):
                state[alarm] = 0.0
    return upper_path, lower_path, alarms


class SequentialWindow(BaseModel):
    """One monitoring window as the detector saw it."""

    model_config = ConfigDict(frozen=True)

    index: int
    value: float | None
    se: float | None
    z: float | None
    """Standardised value; ``None`` when the window was skipped."""
    upper: float
    """CUSUM ``S+`` or Page-Hinkley ``PH+`` after this window (before an alarm's restart)."""
    lower: float
    """CUSUM ``S-`` or Page-Hinkley ``PH-`` after this window."""
    alarm: bool
    direction: Direction | None
    """``"up"`` when the metric rose above its reference, ``"down"`` when it fell; alarms only."""
    skipped: bool
    """No value yet (for example no labels): the detector's state carried over unchanged."""


class SequentialResult(BaseModel):
    """A detector run over a stream of windows."""

    model_config = ConfigDict(frozen=True)

    method: SequentialMethod
    reference: float
    reference_se: float
    allowance: float
    """CUSUM ``k`` or Page-Hinkley ``delta``, in standard errors."""
    threshold: float
    """CUSUM ``h`` or Page-Hinkley ``lambda_``."""
    arl0: float
    """Expected windows between false alarms while the metric stays at its reference value."""
    budget: str
    windows: tuple[SequentialWindow, ...]

    @property
    def alarms(self) -> tuple[int, ...]:
        """Indices of the windows that raised an alarm."""
        return tuple(w.index for w in self.windows if w.alarm)

    @property
    def skipped(self) -> tuple[int, ...]:
        """Indices of the windows with no value."""
        return tuple(w.index for w in self.windows if w.skipped)

    def to_frame(self) -> pd.DataFrame:
        """One row per window."""
        columns = list(SequentialWindow.model_fields)
        return pd.DataFrame([w.model_dump() for w in self.windows], columns=columns)


def budget_sentence(arl0: float) -> str:
    """``expected 520 windows between false alarms (0.10 false alarms per 52 windows)``."""
    return (f"expected {arl0:.0f} windows between false alarms "
            f"({52 / arl0:.2f} false alarms per 52 windows)")


def detect(
    values: Sequence[float | None] | ArrayLike,
    ses: Sequence[float | None] | ArrayLike,
    reference: float,
    *,
    method: SequentialMethod | Cusum | PageHinkley = "cusum",
    arl0: float | None = None,
    reference_se: float = 0.0,
) -> SequentialResult:
    """Run a sequential change detector over per-window metric values.

    Parameters
    ----------
    values
        The metric in each window, oldest first; ``None`` or NaN where it is not known yet (no
        labels): such windows are skipped without restarting the detector.
    ses
        Standard error of each value, for example ``(ci_high - ci_low) / (2 × 1.96)`` from a
        95 % interval; may be missing where the value is.
    reference
        The metric on the validation data.
    method
        ``"cusum"`` or ``"page_hinkley"`` with default settings, or a configured
        :class:`Cusum` / :class:`PageHinkley`.
    arl0
        Expected windows between false alarms (default 520, ten years of weekly windows); only
        with a method name, a configured detector carries its own.
    reference_se
        Standard error of the reference value, added in quadrature.

    Examples
    --------
    >>> result = detect([0.80, 0.79, None, 0.70, 0.69], [0.02] * 5, 0.80, arl0=100)
    >>> result.alarms, result.skipped
    ((3, 4), (2,))
    """
    detector = _resolve(method, arl0)
    x, se = _as_values(values, "values"), _as_values(ses, "ses")
    if x.shape != se.shape:
        raise InputError(f"values and ses must have the same length ({x.size} and {se.size})")
    if not math.isfinite(reference) or not math.isfinite(reference_se) or reference_se < 0:
        raise InputError(f"reference must be finite and reference_se non-negative, got "
                         f"{reference} and {reference_se}")
    present = ~np.isnan(x)
    scale = np.sqrt(se**2 + reference_se**2)
    unusable = np.flatnonzero(present & ~(scale > 0))
    if unusable.size:
        raise InputError(f"windows {unusable.tolist()[:10]} have a value but no positive standard "
                         "error (and reference_se is 0)")
    z = np.where(present, (x - reference) / np.where(present, scale, 1.0), np.nan)
    threshold = detector.threshold
    upper, lower, alarms = run_detector(z, detector.method, detector.allowance, threshold)
    windows = tuple(
        SequentialWindow(
            index=i,
            value=float(x[i]) if present[i] else None,
            se=None if np.isnan(se[i]) else float(se[i]),
            z=float(z[i]) if present[i] else None,
            upper=float(upper[0, i]),
            lower=float(lower[0, i]),
            alarm=bool(alarms[0, i]),
            direction=(("up" if upper[0, i] >= lower[0, i] else "down")
                       if alarms[0, i] else None),
            skipped=not present[i],
        )
        for i in range(x.size)
    )
    arl = detector.in_control_arl
    return SequentialResult(method=detector.method, reference=float(reference),
                            reference_se=float(reference_se), allowance=detector.allowance,
                            threshold=threshold, arl0=arl, budget=budget_sentence(arl),
                            windows=windows)


def _resolve(
    method: SequentialMethod | Cusum | PageHinkley, arl0: float | None
) -> Cusum | PageHinkley:
    if isinstance(method, Cusum | PageHinkley):
        if arl0 is not None:
            raise InputError("arl0 is set on the detector; do not pass it to detect() as well")
        return method
    if method == "cusum":
        return Cusum(arl0=arl0)
    if method == "page_hinkley":
        return PageHinkley(arl0=arl0)
    raise InputError(f"method must be 'cusum' or 'page_hinkley', got {method!r}")


def _as_values(values: Sequence[float | None] | ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numbers (or None where unknown)") from exc
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {array.shape}")
    if np.isinf(array).any():
        raise InputError(f"{name} must be finite (found {int(np.isinf(array).sum())} infinite)")
    return array
