"""Weak-segment, robustness and metamorphic checks in plans, through validate() and the CLI."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from assay.checks import Plan, Run, validate
from assay.errors import PlanError


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    """4,000 patients; the risk uses lactate and age, not sex or ward. In ward C the outcome
    is unrelated to the score (an injected weak segment)."""
    rng = np.random.default_rng(8)
    n = 4000
    frame = pd.DataFrame({
        "lactate": rng.gamma(2.0, 1.0, n),
        "age": rng.integers(20, 90, n).astype(float),
        "sex": rng.choice(["F", "M"], n),
        "ward": rng.choice(["A", "B", "C"], n, p=[0.45, 0.4, 0.15]),
    })
    logit = -3.0 + 0.6 * frame["lactate"] + 0.02 * frame["age"]
    frame["outcome"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    in_c = (frame["ward"] == "C").to_numpy()
    frame.loc[in_c, "outcome"] = rng.permutation(frame.loc[in_c, "outcome"].to_numpy())
    return frame


@pytest.fixture(scope="module")
def model(cohort: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(cohort[["lactate", "age"]], cohort["outcome"])


PLAN = """
name: model-checks
roles: {target: outcome, score: risk}
thresholds: {high: 0.3}
settings: {n_boot: 200}
checks:
  - segments: auroc
    features: [ward, age, sex]
  - robustness: auroc
    perturbation: {kind: noise, features: [lactate], sd_fraction: 2.0}
    condition: value <= 0.01
  - robustness: auroc
    id: sex-missing
    perturbation: {kind: missingness, features: [sex], rate: 0.5}
    condition: ci_high <= 0.001
  - metamorphic: monotonicity
    feature: lactate
  - metamorphic: monotonicity
    id: lactate-lowers-risk
    feature: lactate
    direction: decreasing
  - metamorphic: counterfactual_flips
    attribute: sex
    threshold: high
"""


@pytest.fixture(scope="module")
def run(cohort: pd.DataFrame, model: LogisticRegression) -> Run:
    data = cohort.assign(risk=model.predict_proba(cohort[["lactate", "age"]])[:, 1])
    return validate(Plan.from_yaml(PLAN), data, model=model)


def test_the_injected_weak_ward_is_found(run: Run) -> None:
    result = run.results[0]
    assert (result.kind, result.status) == ("segments", "warn")
    assert result.segments is not None
    top = result.segments.rows[0]
    assert top.description == "ward = C"
    assert top.value < 0.6 < top.rest_value
    assert "ward = C" in result.reason


def test_noise_on_a_used_feature_fails_and_an_unused_one_passes(run: Run) -> None:
    noise, unused = run.results[1], run.results[2]
    assert noise.status == "fail" and noise.robustness is not None
    assert noise.estimate is not None and noise.estimate.value > 0.05
    strengths = [row.strength for row in noise.robustness.rows]
    assert 2.0 in strengths and strengths == sorted(strengths)
    drops = [row.drop for row in noise.robustness.rows if row.drop is not None]
    assert drops == sorted(drops)  # AUROC falls as the noise grows
    assert unused.status == "pass"
    assert unused.estimate is not None and unused.estimate.value == 0.0


def test_metamorphic_checks(run: Run) -> None:
    increasing, decreasing, flips = run.results[3:]
    assert increasing.status == "pass" and increasing.estimate is not None
    assert increasing.estimate.value == 0.0
    assert decreasing.status == "fail" and decreasing.estimate is not None
    assert decreasing.estimate.value == 1.0
    assert flips.status == "pass" and flips.metamorphic is not None
    assert flips.estimate is not None and flips.estimate.value == 0.0


def test_the_run_reloads_and_reports_every_section(run: Run) -> None:
    assert Run.from_json(run.to_json()) == run
    html = run.to_html()
    for section in ('id="segments"', 'id="robustness"'):
        assert section in html
    assert "ward = C" in html and "Drop (CI)" in html


def test_without_the_model_the_model_checks_are_errors(cohort: pd.DataFrame,
                                                       model: LogisticRegression) -> None:
    data = cohort.assign(risk=model.predict_proba(cohort[["lactate", "age"]])[:, 1])
    run = validate(Plan.from_yaml(PLAN), data)
    statuses = [r.status for r in run.results]
    assert statuses[0] == "warn" and set(statuses[1:]) == {"error"}
    assert "needs the model itself" in run.results[1].reason


def test_the_cli_loads_a_model_file(tmp_path: Path, cohort: pd.DataFrame,
                                    model: LogisticRegression) -> None:
    from typer.testing import CliRunner

    from assay.cli._app import app

    data = cohort.assign(risk=model.predict_proba(cohort[["lactate", "age"]])[:, 1])
    data.to_parquet(tmp_path / "data.parquet")
    joblib.dump(model, tmp_path / "model.joblib")
    (tmp_path / "plan.yaml").write_text(PLAN.replace("n_boot: 200", "n_boot: 100"))
    args = ["validate", str(tmp_path / "plan.yaml"), "--data", str(tmp_path / "data.parquet")]
    result = CliRunner().invoke(app, [*args, "--model", str(tmp_path / "model.joblib"),
                                      "--json", str(tmp_path / "run.json")])
    assert result.exit_code == 1, result.output  # the noise check fails
    run = Run.from_json(tmp_path / "run.json")
    assert run.results[1].score == "model.joblib"
    missing = CliRunner().invoke(app, [*args, "--model", str(tmp_path / "absent.joblib")])
    assert missing.exit_code == 2 and "absent.joblib" in missing.output


@pytest.mark.parametrize(("check", "message"), [
    ("{segments: brier, features: [ward]}", "no closed-form test"),
    ("{segments: auroc, features: []}", "at least 1 item"),
    ("{segments: sensitivity, features: [ward]}", "'threshold:' is required"),
    ("{robustness: flag_rate, threshold: 0.3, perturbation: {kind: noise, features: [a], "
     "sd_fraction: 1}, condition: value <= 0}", "no better direction"),
    ("{robustness: auroc, perturbation: {kind: noise, features: [a]}, condition: value <= 0}",
     "sd_fraction"),
    ("{metamorphic: monotonicity}", "needs 'feature:'"),
    ("{metamorphic: counterfactual_flips, attribute: sex}", "'threshold:' is required"),
])
def test_plan_errors_name_the_problem(check: str, message: str) -> None:
    with pytest.raises(PlanError, match="line 3, checks\\[0\\]") as error:
        Plan.from_yaml(f"name: p\nchecks:\n  - {check}\n")
    assert message in str(error.value)


def test_a_robustness_plan_writes_back_to_an_equal_plan() -> None:
    plan = Plan.from_yaml(PLAN)
    assert Plan.from_yaml(plan.to_yaml()) == plan


def test_summary_sentences_describe_the_drop_and_the_share_moved(run: Run) -> None:
    from assay.reports._html import build_report

    problems = build_report(run).problems
    drop = next(s for s in problems if s.startswith("Drop in AUROC"))
    assert "the drop (positive means worse) was" in drop
    assert "the plan requires the estimate of the drop to be at most 0.01" in drop
    moved = next(s for s in problems if s.startswith("Risk decreasing in lactate"))
    assert "of the share of patients to be at most 0" in moved
