from __future__ import annotations

import math

import pytest

from assay.metrics import Estimate
from assay.reports._format import (
    format_bounds,
    format_count,
    format_interval,
    format_level,
    format_p_value,
    format_percent,
    format_threshold,
    format_value,
    interval_text,
    metric_title,
    p_value_text,
)


@pytest.mark.parametrize(("x", "metric", "expected"), [
    (0.78149, None, "0.781"),
    (0.0, None, "0.000"),
    (-0.0123, None, "−0.012"),
    (-0.0004, None, "0.000"),  # rounds to zero: no minus sign
    (12.345, None, "12.35"),
    (412.54, None, "412.5"),
    (15203.7, None, "15,204"),
    (1520.0, "n", "1,520"),
    (12.0, "n_flagged", "12"),
    (0.0004, "p_value", "< 0.001"),
    (None, None, "—"),
    (math.nan, None, "—"),
    (math.inf, None, "—"),
])
def test_format_value(x: float | None, metric: str | None, expected: str) -> None:
    assert format_value(x, metric) == expected


def test_format_interval_of_an_estimate() -> None:
    e = Estimate(value=0.7815, ci_low=0.7621, ci_high=0.7994, method="delong", n=900)
    assert format_interval(e) == "0.781 (0.762–0.799)"
    assert format_interval(e, level=0.95) == "0.781 (95% CI 0.762–0.799)"
    assert format_interval(Estimate(value=0.5, n=10)) == "0.500"
    assert format_interval(None) == "—"


def test_negative_bounds_use_to_not_a_dash() -> None:
    assert format_bounds(-0.0123, -0.0301, 0.0062) == "−0.012 (−0.030 to 0.006)"
    assert interval_text(-0.03, 0.006) == "−0.030 to 0.006"
    assert interval_text(0.1, 0.2) == "0.100–0.200"


def test_bounds_share_the_decimals_of_the_largest_number() -> None:
    assert format_bounds(9.5, 8.9, 10.4) == "9.50 (8.90–10.40)"


def test_undefined_bounds_show_the_value_alone() -> None:
    assert format_bounds(0.4, math.nan, math.nan) == "0.400"
    assert format_bounds(math.nan, 0.1, 0.2) == "—"
    assert interval_text(None, 0.3) == "—"


@pytest.mark.parametrize(("x", "expected"), [
    (0.3, "0.30"), (0.125, "0.125"), (2.5, "2.50"), (45.0, "45"), (-0.02, "−0.02"),
    (1200.0, "1200"), (None, "—"),
])
def test_format_threshold(x: float | None, expected: str) -> None:
    assert format_threshold(x) == expected


def test_small_helpers() -> None:
    assert format_count(1520) == "1,520"
    assert format_percent(0.1375) == "13.8%"
    assert format_level(0.95) == "95%"
    assert format_level(0.9) == "90%"
    assert format_level(0.975) == "97.5%"
    assert format_p_value(0.04567) == "0.046"
    assert p_value_text(0.04567) == "p = 0.046"
    assert p_value_text(1e-9) == "p < 0.001"


def test_metric_title_reads_the_registry_and_falls_back_to_the_name() -> None:
    assert metric_title("auroc") == "AUROC"
    assert metric_title("not_a_metric") == "Not a metric"
