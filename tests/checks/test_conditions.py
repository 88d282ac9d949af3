from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.checks import Condition
from assay.metrics import Estimate

AUROC = Estimate(value=0.78, ci_low=0.74, ci_high=0.82, method="delong", n=900, n_events=120)


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("ci_low >= 0.74", True),
        ("ci_low > 0.74", False),
        ("value >= 0.8", False),
        ("value < 0.79", True),
        ("ci_high <= 0.82", True),
        ("value in [0.7, 0.78]", True),
        ("ci in [0.75, 0.9]", False),
        ("ci in [0.74, 0.82]", True),
        ("value in [-1, 1e-1]", False),
        ("value outside [0.8, 1.2]", True),
        ("value outside [0.7, 0.9]", False),
        ("ci outside [0.83, 1.2]", True),
        ("ci outside [0.5, 0.73]", True),
        ("ci outside [0.8, 1.2]", False),
        ("ci outside [0.6, 0.75]", False),
    ],
)
def test_condition_reads_and_judges(text: str, holds: bool) -> None:
    condition = Condition.model_validate(text)
    assert condition.holds(AUROC) is holds
    assert Condition.model_validate(str(condition)) == condition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ci_lo >= 0.7", "unknown field 'ci_lo'"),
        ("auroc >= 0.7", "unknown field 'auroc'"),
        ("value => 0.7", "cannot read condition"),
        ("value in [0.9, 0.8]", "low <= high"),
        ("ci outside [1.2, 0.8]", "low <= high"),
        ("ci >= 0.8", "needs a number"),
    ],
)
def test_bad_conditions_say_why(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(text)


def test_interval_condition_on_point_estimate_is_an_error() -> None:
    point = Estimate(value=0.5, n=10)
    with pytest.raises(ValueError, match="needs a confidence interval"):
        Condition.model_validate("ci_low >= 0.4").holds(point)
    assert Condition.model_validate("value >= 0.4").holds(point)
