from __future__ import annotations

import json

import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.data import Dataset, Roles
from assay.errors import InputError
from assay.metrics import estimate

ROLES = {"target": "outcome", "score": ["risk", "challenger", "lactate"],
         "id": "encounter_id", "time": "discharged_at"}
PLAN = f"""
name: unit-plan
roles: {json.dumps(ROLES)}
thresholds:
  operating: 0.3
  high_sensitivity: {{rule: sensitivity, target: 0.9}}
settings: {{n_boot: 200, seed: 5}}
checks:
  - metric: auroc
    condition: ci_low >= 0.70
  - metric: auroc
    id: auroc-too-strict
    condition: ci_low >= 0.95
  - metric: calibration_slope
    condition: value in [0.8, 1.2]
    warning: value in [0.999, 1.001]
  - metric: brier
    score: lactate
    condition: value < 0.2
  - metric: ppv
    threshold: 2.0
    score: risk
    condition: value > 0.5
  - metric: sensitivity
    threshold: high_sensitivity
    condition: value >= 0.9
  - metric: sensitivity
    threshold: operating
    score: lactate
    condition: value >= 0.0
  - compare: auroc
    challenger: challenger
    baseline: risk
    margin: 0.01
  - compare: auroc
    challenger: risk
    baseline: lactate
    test: superiority
"""


@pytest.fixture(scope="module")
def run(cohort: pd.DataFrame) -> Run:
    return validate(Plan.from_yaml(PLAN), cohort)


def status_of(run: Run, check_id: str) -> str:
    return next(r.status for r in run.results if r.id == check_id)


def test_each_status_with_its_reason(run: Run) -> None:
    by_id = {r.id: r for r in run.results}
    assert by_id["auroc"].status == "pass"
    assert by_id["auroc-too-strict"].status == "fail"
    assert "does not meet 'ci_low >= 0.95'" in by_id["auroc-too-strict"].reason
    assert by_id["calibration_slope"].status == "warn"
    assert by_id["brier[lactate]"].status == "skipped"
    assert "'lactate' is not a probability" in by_id["brier[lactate]"].reason
    assert by_id["ppv@2.0[risk]"].status == "error"
    assert "nobody" in by_id["ppv@2.0[risk]"].reason.lower()
    assert by_id["sensitivity@high_sensitivity"].status == "pass"
    assert by_id["sensitivity@operating[lactate]"].status == "pass"
    assert by_id["auroc[challenger vs risk]"].status == "fail"
    assert by_id["auroc[risk vs lactate]"].status == "pass"
    assert run.status == "fail" and not run.passed
    assert run.counts == {"fail": 2, "error": 1, "warn": 1, "pass": 4, "skipped": 1}


def test_estimates_equal_the_metric_functions(run: Run, cohort: pd.DataFrame) -> None:
    result = next(r for r in run.results if r.id == "auroc")
    direct = estimate("auroc", cohort["outcome"], cohort["risk"], ci="delong")
    assert result.estimate == direct
    assert run.metric("auroc").value == pytest.approx(direct.value, abs=1e-12)


def test_threshold_rules_resolve_on_the_data(run: Run) -> None:
    assert run.thresholds["operating"] == 0.3
    chosen = run.thresholds["high_sensitivity"]
    sensitivity = next(r for r in run.results if r.id == "sensitivity@high_sensitivity")
    assert sensitivity.threshold == chosen and sensitivity.estimate is not None
    assert sensitivity.estimate.value >= 0.9


def test_evaluation_table_covers_every_score_and_skips_with_reasons(run: Run) -> None:
    lactate = {r.metric: r for r in run.metrics if r.score == "lactate" and r.threshold is None}
    assert lactate["auroc"].status == "ok" and lactate["auprc"].status == "ok"
    assert lactate["calibration_slope"].status == "skipped"
    assert lactate["brier"].reason and "not a probability" in lactate["brier"].reason
    at_operating = [r for r in run.metrics if r.threshold == 0.3 and r.score == "risk"]
    assert {r.metric for r in at_operating} >= {"sensitivity", "specificity", "ppv", "npv",
                                                "flag_rate", "nne", "lr_positive"}
    assert all(r.ci_low is not None for r in run.metrics if r.status == "ok")
    pairs = {(c.a, c.b) for c in run.comparisons}
    assert pairs == {("risk", "challenger"), ("risk", "lactate"), ("challenger", "lactate")}


def test_curves_per_score(run: Run) -> None:
    assert set(run.curves["risk"]) == {"roc", "pr", "calibration", "reliability", "decision",
                                       "threshold"}
    assert set(run.curves["lactate"]) == {"roc", "pr", "threshold"}


def test_run_serialises_and_reloads_to_the_same_object(run: Run, tmp_path) -> None:
    path = tmp_path / "run.json"
    run.to_json(path)
    assert Run.from_json(path) == run
    assert Run.from_json(run.to_json()) == run


def test_same_inputs_and_seed_give_the_same_bytes(run: Run, cohort: pd.DataFrame) -> None:
    again = validate(Plan.from_yaml(PLAN), cohort)
    assert again.to_json(timings=False) == run.to_json(timings=False)
    reseeded = validate(Plan.from_yaml(PLAN.replace("seed: 5", "seed: 6")), cohort)
    assert reseeded.metric("brier").ci_low != run.metric("brier").ci_low
    assert reseeded.metric("auroc") == run.metric("auroc")  # DeLong has no randomness


def test_records_provenance(run: Run, cohort: pd.DataFrame) -> None:
    plan = Plan.from_yaml(PLAN)
    assert run.plan == plan and run.plan_fingerprint == plan.fingerprint
    assert run.data.fingerprint == Dataset(cohort, Roles(**ROLES)).fingerprint
    assert run.data.n == 2000 and run.data.n_events == int(cohort["outcome"].sum())
    assert run.seed == 5 and run.assay_version
    assert run.data.time_start == "2025-01-01T00:00:00"
    assert run.timings["total"] > 0


def test_run_is_immutable(run: Run) -> None:
    with pytest.raises(ValueError, match="frozen"):
        run.seed = 3  # type: ignore[misc]


def test_plan_naming_absent_score_is_bad_input(cohort: pd.DataFrame) -> None:
    plan = Plan.from_yaml("name: p\nchecks:\n  - metric: auroc\n    score: new_model\n"
                          "    condition: value > 0.5\n")
    with pytest.raises(InputError, match="'new_model'"):
        validate(plan, cohort, roles=Roles(target="outcome", score="risk"))


def test_nothing_inside_a_run_can_be_changed_in_place(run: Run) -> None:
    with pytest.raises(TypeError):
        run.thresholds["operating"] = 0.9  # type: ignore[index]
    with pytest.raises(TypeError):
        run.curves["risk"]["roc"] = run.curves["risk"]["pr"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        run.curves["risk"]["roc"].columns["fpr"].append(0.5)  # type: ignore[attr-defined]
    assert Run.from_json(run.to_json()) == run
