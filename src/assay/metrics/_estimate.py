"""The value type every reported number travels in."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

IntervalMethod = Literal[
    "delong", "wilson", "bootstrap-percentile", "bootstrap-bca", "normal", "cbpe", "none"
]
"""How an interval was obtained. ``normal``: a normal approximation from standard errors (a
mean, a difference of two estimates); ``cbpe``: the range a label-free estimate's realised
value would take if the scores stay calibrated (outcomes drawn from the scores)."""


class Estimate(BaseModel):
    """A point estimate with its confidence interval and the sample it came from.

    Parameters
    ----------
    value
        The point estimate.
    ci_low, ci_high
        Bounds of the ``level`` confidence interval; ``None`` when no interval was computed
        (``method="none"``).
    level
        Confidence level of the interval, for example 0.95.
    method
        How the interval was obtained.
    n
        Number of rows the estimate used.
    n_events
        Number of positive cases (binary targets), when meaningful.

    Examples
    --------
    >>> auroc = Estimate(value=0.78, ci_low=0.76, ci_high=0.80, method="delong", n=1200)
    >>> str(auroc)
    '0.780 (0.760–0.800)'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95
    method: IntervalMethod = "none"
    n: int
    n_events: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Estimate:
        if not math.isfinite(self.value):
            raise ValueError(f"an Estimate must have a finite value, got {self.value}")
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("ci_low and ci_high must both be given or both be None")
        if self.method == "none" and self.ci_low is not None:
            raise ValueError("an interval was given but method is 'none'")
        if not 0 < self.level < 1:
            raise ValueError(f"level must be in (0, 1), got {self.level}")
        return self

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Estimate({fields})"

    def __str__(self) -> str:
        """``0.781 (0.762–0.799)``; with a negative bound ``−0.012 (−0.030 to 0.006)``."""
        return format_interval(self.value, self.ci_low, self.ci_high)


def format_interval(
    value: float, low: float | None, high: float | None, *, signed: bool = False
) -> str:
    """A value and its interval in plain text, three decimals, with a true minus sign.

    ``signed`` writes a ``+`` on positive numbers, for differences.
    """
    def number(x: float) -> str:
        return (f"{x:+.3f}" if signed else f"{x:.3f}").replace("-", "−")

    if low is None or high is None:
        return number(value)
    separator = " to " if signed or low < 0 else "–"
    return f"{number(value)} ({number(low)}{separator}{number(high)})"
