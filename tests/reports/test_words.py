from __future__ import annotations

import pytest

from assay.checks import CheckResult, Run
from assay.metrics import PairedComparison
from assay.reports._words import check_sentence, condition_parts, counts_sentence, join_words


@pytest.mark.parametrize(("condition", "expected"), [
    ("ci_low >= 0.7", ("the lower bound of the 95% CI", "at least 0.70")),
    ("ci_high < 0.25", ("the upper bound of the 95% CI", "below 0.25")),
    ("value <= 0.12", ("the estimate", "at most 0.12")),
    ("value > 1", ("the estimate", "above 1.00")),
    ("value in [0.8, 1.2]", ("the estimate", "between 0.80 and 1.20")),
    ("ci in [0.8, 1.2]", ("the whole 95% CI", "between 0.80 and 1.20")),
])
def test_condition_in_words(condition: str, expected: tuple[str, str]) -> None:
    assert condition_parts(condition, 0.95) == expected


def test_counts_sentence_names_only_statuses_that_occur() -> None:
    counts = {"fail": 2, "error": 0, "warn": 0, "pass": 1, "skipped": 0}
    assert counts_sentence(counts) == "Of the 3 checks, 2 failed and 1 passed."  # type: ignore[arg-type]
    assert join_words(["a", "b", "c"]) == "a, b and c"


def test_failing_comparison_sentence(run: Run) -> None:
    comparison = PairedComparison(
        metric="auroc", a="readmit_risk", b="lactate", value_a=0.70, value_b=0.73,
        difference=-0.03, ci_low=-0.061, ci_high=0.001, level=0.95, p_value=0.06,
        method="delong", n=2000)
    result = CheckResult(id="auroc-vs-lactate", kind="comparison", title="x", status="fail",
                         reason="r", metric="auroc", score="readmit_risk",
                         condition="ci_low > -0.02", comparison=comparison)
    assert check_sentence(run, result) == (
        "The difference in AUROC between readmit_risk and lactate (readmit_risk minus lactate) "
        "was −0.030 (95% CI −0.061 to 0.001), p = 0.060; the plan requires the lower bound of "
        "the 95% CI of the difference to be above −0.02 (non-inferiority test, margin 0.02)."
    )
