"""Confidence-based performance estimation: accuracy, coverage, the calibration check, limits."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import accuracy, auroc, npv, ppv, sensitivity, specificity
from assay.monitoring._cbpe import CBPE, _replicate_metrics, fit_cbpe, isotonic_knots

THRESHOLD = 0.3


def _scores(rng: np.random.Generator, n: int, mean: float, sd: float) -> np.ndarray:
    return np.asarray(expit(rng.normal(mean, sd, n)))


@cache
def _calibrated_cbpe() -> CBPE:
    rng = np.random.default_rng(2024)
    score = _scores(rng, 5000, -1.2, 1.2)
    return fit_cbpe(rng.binomial(1, score), score, threshold=THRESHOLD, seed=1)


def _realised(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    return {"auroc": auroc(y, score), "sensitivity": sensitivity(y, score, threshold=THRESHOLD),
            "ppv": ppv(y, score, threshold=THRESHOLD)}


def test_intervals_cover_the_realised_metrics_under_covariate_shift() -> None:
    cbpe = _calibrated_cbpe()
    assert not cbpe.calibrator_fitted
    rng = np.random.default_rng(11)
    covered = {"auroc": 0, "sensitivity": 0, "ppv": 0}
    repetitions = 50
    for _ in range(repetitions):
        score = _scores(rng, 2000, -0.5, 0.9)  # an older, more homogeneous population
        y = rng.binomial(1, score)  # same P(outcome | score)
        estimates = cbpe.estimate(score, metrics=("auroc", "sensitivity", "ppv"))
        for name, value in _realised(y, score).items():
            e = estimates[name]
            assert e.ci_low is not None and e.ci_high is not None
            covered[name] += e.ci_low <= value <= e.ci_high
    coverage = {name: count / repetitions for name, count in covered.items()}
    print(f"\nCBPE 95% interval coverage over {repetitions} shifted samples of 2000: {coverage}")
    assert all(share >= 0.90 for share in coverage.values())


def test_point_estimates_are_close_on_a_large_shifted_sample() -> None:
    cbpe = _calibrated_cbpe()
    rng = np.random.default_rng(12)
    score = _scores(rng, 50_000, -0.5, 0.9)
    y = rng.binomial(1, score)
    estimates = cbpe.estimate(score)
    realised = {
        **_realised(y, score),
        "specificity": specificity(y, score, threshold=THRESHOLD),
        "npv": npv(y, score, threshold=THRESHOLD),
        "accuracy": accuracy(y, score, threshold=THRESHOLD),
    }
    assert list(estimates) == ["auroc", "sensitivity", "specificity", "ppv", "npv", "accuracy"]
    for name, value in realised.items():
        e = estimates[name]
        print(f"\n{name}: estimated {e}, realised {value:.3f}")
        assert abs(e.value - value) <= 0.02
        assert e.n == 50_000 and e.n_events is None and e.method == "cbpe"


def test_the_assumption_is_stated_with_the_measured_calibration() -> None:
    cbpe = _calibrated_cbpe()
    check = cbpe.check
    assert cbpe.assumption == (
        "Estimates assume the scores stay calibrated in production as they were on the reference "
        f"(calibration slope {check.calibration_slope}, ICI {check.ici.value:.3f}); they cannot "
        "see concept drift (a change in P(outcome | score))."
    )
    assert check.reasons == () and not check.miscalibrated
    assert check.calibration_slope.ci_low is not None
    assert check.calibration_slope.ci_low <= 1 <= check.calibration_slope.ci_high  # type: ignore[operator]
    assert cbpe.method == "cbpe"


def test_squashed_scores_are_recalibrated_and_still_estimated_well() -> None:
    rng = np.random.default_rng(13)
    risk = _scores(rng, 5000, -1.2, 1.2)
    y = rng.binomial(1, risk)
    squashed = risk**2  # the model under-predicts: P(outcome | score) = sqrt(score)
    cbpe = fit_cbpe(y, squashed, threshold=0.09, seed=1)
    assert cbpe.calibrator_fitted and cbpe.check.miscalibrated
    assert any("calibration slope" in reason for reason in cbpe.check.reasons)
    assert cbpe.assumption.startswith("The scores were miscalibrated on the reference (")
    assert "recalibrated by isotonic regression" in cbpe.assumption
    current_risk = _scores(rng, 50_000, -0.5, 0.9)
    current_y = rng.binomial(1, current_risk)
    current = current_risk**2
    estimates = cbpe.estimate(current, metrics=("auroc", "sensitivity", "ppv"))
    uncorrected = fit_cbpe(y, squashed, threshold=0.09, recalibrate="never").estimate(
        current, metrics=("ppv",))
    realised_ppv = ppv(current_y, current, threshold=0.09)
    for name, value in {"auroc": auroc(current_y, current),
                        "sensitivity": sensitivity(current_y, current, threshold=0.09),
                        "ppv": realised_ppv}.items():
        print(f"\nsquashed scores, {name}: estimated {estimates[name]}, realised {value:.3f}")
        assert abs(estimates[name].value - value) <= 0.02
    print(f"without the calibrator PPV would be estimated {uncorrected['ppv']}")
    assert realised_ppv - uncorrected["ppv"].value > 0.15


def test_concept_drift_is_invisible_to_cbpe() -> None:
    cbpe = _calibrated_cbpe()
    rng = np.random.default_rng(14)
    score = _scores(rng, 5000, -0.5, 0.9)
    y = rng.binomial(1, expit(0.4 * logit(score)))  # the score says less about the outcome now
    e = cbpe.estimate(score, metrics=("auroc",))["auroc"]
    realised = auroc(y, score)
    print(f"\nconcept drift: CBPE AUROC {e}, realised {realised:.3f}")
    assert e.ci_low is not None and e.ci_high is not None
    assert not e.ci_low <= realised <= e.ci_high
    assert realised < e.ci_low


def test_replicates_match_the_registered_metrics() -> None:
    rng = np.random.default_rng(15)
    score = np.round(_scores(rng, 400, -1.0, 1.0), 2)  # ties, and scores equal to the threshold
    assert np.any(score == THRESHOLD)
    p = np.clip(score + 0.05, 0, 1)
    replicates = _replicate_metrics(score, p, THRESHOLD, 3, seed=5)
    draws = np.random.default_rng(5).random((3, score.size)) < p
    for r, outcomes in enumerate(draws.astype(int)):
        expected = {"auroc": auroc(outcomes, score),
                    "sensitivity": sensitivity(outcomes, score, threshold=THRESHOLD),
                    "specificity": specificity(outcomes, score, threshold=THRESHOLD),
                    "ppv": ppv(outcomes, score, threshold=THRESHOLD),
                    "npv": npv(outcomes, score, threshold=THRESHOLD),
                    "accuracy": accuracy(outcomes, score, threshold=THRESHOLD)}
        for name, value in expected.items():
            assert replicates[name][r] == pytest.approx(value, abs=1e-12)


def test_expected_confusion_matrix_flags_at_the_threshold() -> None:
    rng = np.random.default_rng(17)
    reference = _scores(rng, 1000, -1.0, 1.0)
    cbpe = fit_cbpe(rng.binomial(1, reference), reference, threshold=0.5, recalibrate="never")
    score = np.array([0.2, 0.5, 0.8])
    estimates = cbpe.estimate(score, metrics=("sensitivity", "ppv", "npv"))
    # flag = score >= 0.5: E[TP] = 0.5 + 0.8, E[cases] = 1.5
    assert estimates["sensitivity"].value == pytest.approx(1.3 / 1.5)
    assert estimates["ppv"].value == pytest.approx(1.3 / 2)
    assert estimates["npv"].value == pytest.approx(0.8)


def test_isotonic_calibrator_matches_scikit_learn() -> None:
    rng = np.random.default_rng(16)
    score = np.round(rng.random(3000), 2)
    y = rng.binomial(1, score**0.5)
    knots, fitted = isotonic_knots(score, y)
    reference = IsotonicRegression(out_of_bounds="clip").fit(score, y)
    grid = np.linspace(-0.1, 1.1, 500)
    assert np.interp(grid, knots, fitted) == pytest.approx(reference.predict(grid), abs=1e-12)


def test_bad_inputs_are_reported() -> None:
    cbpe = _calibrated_cbpe()
    with pytest.raises(InputError, match=r"score must be probabilities in \[0, 1\]"):
        cbpe.estimate([0.2, 1.3])
    with pytest.raises(InputError, match="CBPE estimates"):
        cbpe.estimate([0.2, 0.3], metrics=("oe_ratio",))  # type: ignore[arg-type]
    with pytest.raises(UndefinedMetricError, match="CBPE ppv: nobody was flagged"):
        cbpe.estimate([0.1, 0.2], metrics=("ppv",))
