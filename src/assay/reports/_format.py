"""Number and interval formatting shared by every renderer.

One place decides how a number looks, so the HTML report, JUnit messages and any later
renderer agree: three decimals for values on the usual metric scale, an en dash between
interval bounds (``0.781 (0.762–0.799)``), "to" when a bound is negative so that a minus sign
never sits next to the dash (``−0.012 (−0.030 to 0.006)``), and a dash for a value that is not
defined.

Values stay on the scale of the plan's conditions: a sensitivity of 0.61 is written 0.610, not
61 %, so that a reader can compare it with ``ci_low >= 0.70`` directly. Percentages are used
only for shares of patients (prevalence, flag rate in the header).
"""

from __future__ import annotations

import math
from typing import Protocol

__all__ = [
    "MISSING",
    "format_bounds",
    "format_count",
    "format_interval",
    "format_level",
    "format_p_value",
    "format_percent",
    "format_threshold",
    "format_value",
    "interval_text",
    "metric_title",
    "p_value_text",
]

MISSING = "—"
"""What an undefined value is shown as."""

_MINUS = "\u2212"
_COUNT_METRICS = frozenset({"n", "n_events", "n_flagged", "n_positive", "n_negative"})


class HasInterval(Protocol):
    """Anything with a value and optional bounds: an Estimate, a MetricRecord."""

    @property
    def value(self) -> float | None: ...

    @property
    def ci_low(self) -> float | None: ...

    @property
    def ci_high(self) -> float | None: ...


def _decimals(magnitude: float) -> int:
    if magnitude < 10:
        return 3
    if magnitude < 100:
        return 2
    if magnitude < 1000:
        return 1
    return 0


def _number(x: float, decimals: int) -> str:
    text = f"{abs(x):,.{decimals}f}"
    negative = x < 0 and text.strip("0.,") != ""
    return (_MINUS if negative else "") + text


def _is_missing(x: float | None) -> bool:
    return x is None or not math.isfinite(x)


def format_value(x: float | None, metric: str | None = None) -> str:
    """Format one number the way every report shows it.

    Parameters
    ----------
    x
        The number; ``None`` or a non-finite value is shown as a dash.
    metric
        The metric or column the number belongs to. Counts (``n``, ``n_events``,
        ``n_flagged``) are shown as integers with thousands separators, ``p_value`` as a
        p-value; everything else with three decimals below 10 (fewer above, so that a lab
        value of 412.5 is not written 412.500).

    Returns
    -------
    str
        The formatted number, with a true minus sign for negative values.

    Examples
    --------
    >>> format_value(0.78149), format_value(-0.0123), format_value(1520.0, "n")
    ('0.781', '−0.012', '1,520')
    >>> format_value(None)
    '—'
    """
    if x is None or _is_missing(x):
        return MISSING
    if metric in _COUNT_METRICS:
        return format_count(round(x))
    if metric == "p_value":
        return format_p_value(x)
    return _number(x, _decimals(abs(x)))


def interval_text(low: float | None, high: float | None, *, decimals: int | None = None) -> str:
    """The bounds of an interval alone: ``0.762–0.799`` or ``−0.030 to 0.006``.

    Examples
    --------
    >>> interval_text(0.7621, 0.7994)
    '0.762–0.799'
    >>> interval_text(-0.03, 0.006)
    '−0.030 to 0.006'
    """
    if low is None or high is None or _is_missing(low) or _is_missing(high):
        return MISSING
    digits = decimals if decimals is not None else _decimals(max(abs(low), abs(high)))
    joiner = " to " if low < 0 or high < 0 else "–"
    return f"{_number(low, digits)}{joiner}{_number(high, digits)}"


def format_interval(
    estimate: HasInterval | None, *, level: float | None = None
) -> str:
    """Format a value with its confidence interval: ``0.781 (0.762–0.799)``.

    Parameters
    ----------
    estimate
        An :class:`~assay.metrics.Estimate`, a metric record, or anything with ``value``,
        ``ci_low`` and ``ci_high``.
    level
        When given, the interval is labelled: ``0.781 (95% CI 0.762–0.799)``.

    Returns
    -------
    str
        The value alone when there is no interval; a dash when there is no value.

    Examples
    --------
    >>> from assay.metrics import Estimate
    >>> e = Estimate(value=0.7815, ci_low=0.7621, ci_high=0.7994, method="delong", n=900)
    >>> format_interval(e)
    '0.781 (0.762–0.799)'
    >>> format_interval(e, level=0.95)
    '0.781 (95% CI 0.762–0.799)'
    """
    if estimate is None:
        return MISSING
    return format_bounds(estimate.value, estimate.ci_low, estimate.ci_high, level=level)


def format_bounds(
    value: float | None, low: float | None, high: float | None, *, level: float | None = None
) -> str:
    """Format a value and the bounds of its interval given as numbers.

    All three numbers get the same number of decimals.

    Examples
    --------
    >>> format_bounds(-0.0123, -0.0301, 0.0062)
    '−0.012 (−0.030 to 0.006)'
    >>> format_bounds(0.5, None, None)
    '0.500'
    """
    if value is None or _is_missing(value):
        return MISSING
    if low is None or high is None or _is_missing(low) or _is_missing(high):
        return format_value(value)
    digits = _decimals(max(abs(value), abs(low), abs(high)))
    label = f"{format_level(level)} CI " if level is not None else ""
    return f"{_number(value, digits)} ({label}{interval_text(low, high, decimals=digits)})"


def format_threshold(x: float | None) -> str:
    """Format an operating threshold: at least two decimals below 10, no trailing noise.

    Examples
    --------
    >>> format_threshold(0.3), format_threshold(0.125), format_threshold(45.0)
    ('0.30', '0.125', '45')
    """
    if x is None or _is_missing(x):
        return MISSING
    text = f"{x:.4g}"
    if "e" in text:
        return text
    if abs(x) < 10:
        whole, _, fraction = text.partition(".")
        text = f"{whole}.{fraction.ljust(2, '0')}"
    return text.replace("-", _MINUS)


def format_count(n: int | None) -> str:
    """Format a count with thousands separators (``1,520``)."""
    return MISSING if n is None else f"{n:,}"


def format_percent(x: float | None, decimals: int = 1) -> str:
    """Format a share as a percentage (``0.1234`` → ``12.3%``)."""
    if x is None or _is_missing(x):
        return MISSING
    return f"{100 * x:.{decimals}f}%"


def format_level(level: float | None) -> str:
    """Format a confidence level (``0.95`` → ``95%``, ``0.975`` → ``97.5%``)."""
    if level is None:
        return MISSING
    return f"{100 * level:.10g}%"


def format_p_value(p: float | None) -> str:
    """Format a p-value: three decimals, or ``< 0.001``.

    Examples
    --------
    >>> format_p_value(0.04567), format_p_value(2e-7)
    ('0.046', '< 0.001')
    """
    if p is None or _is_missing(p):
        return MISSING
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_value_text(p: float | None) -> str:
    """A p-value as a phrase: ``p = 0.046`` or ``p < 0.001``."""
    text = format_p_value(p)
    return text if text == MISSING else ("p " + text if text.startswith("<") else "p = " + text)


def metric_title(name: str) -> str:
    """The registered title of a metric (``auroc`` → ``AUROC``), or its name if unknown."""
    from assay.metrics import get_metric

    try:
        return get_metric(name).title
    except KeyError:
        return name.replace("_", " ").capitalize()
