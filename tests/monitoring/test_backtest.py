from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from assay.datasets import LabUnitChange, make_inpatient_cohort
from assay.errors import InputError, PlanError
from assay.monitoring import DEFAULT_RULES, AlertRule, backtest

SHIFT = "2025-04-15"
FEATURES = ["age", "creatinine_mg_dl", "sodium_mmol_l", "charlson_index"]
ROLES: dict[str, Any] = {"time": "discharged_at", "target": "readmit_30d", "score": "true_risk"}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_inpatient_cohort(
        4000, start="2025-01-01", months=6, seed=1,
        shifts=[LabUnitChange("creatinine_mg_dl", factor=88.4, starts=SHIFT, unit="µmol/L")])


@pytest.fixture(scope="module")
def reference(cohort: pd.DataFrame) -> pd.DataFrame:
    return cohort[cohort.discharged_at < "2025-03-01"]


@pytest.fixture(scope="module")
def log(cohort: pd.DataFrame) -> pd.DataFrame:
    return cohort[cohort.discharged_at >= "2025-03-01"]


def test_default_rules_are_the_documented_ones() -> None:
    kinds = {r.name: (r.kind, r.severity) for r in DEFAULT_RULES}
    assert kinds == {
        "drift": ("drift", "warning"),
        "auroc-cusum": ("sequential", "critical"),
        "oe-ratio": ("metric", "critical"),
        "oe-cusum": ("sequential", "warning"),
        "flag-rate-cusum": ("sequential", "warning"),
        "no-data": ("no_data", "warning"),
    }
    by_name = {r.name: r for r in DEFAULT_RULES}
    assert by_name["auroc-cusum"].sequential is not None
    assert by_name["auroc-cusum"].sequential.arl0 == 520
    assert str(by_name["oe-ratio"].when) == "ci outside [0.8, 1.2]"
    assert by_name["drift"].drift is not None and by_name["drift"].drift.threshold is None
    assert by_name["no-data"].no_data is not None and by_name["no-data"].no_data.min_rows == 1


def test_backtest_finds_the_unit_change_in_its_window(log: pd.DataFrame,
                                                      reference: pd.DataFrame) -> None:
    found = backtest(log, reference, **ROLES, window="14d", features=FEATURES,
                     threshold=0.2, groups=["sex"])
    starts = [w.result.window_start for w in found.windows]
    first = datetime(2025, 3, 1, tzinfo=UTC)
    assert starts == [first + timedelta(days=14 * i) for i in range(8)]
    assert all(w.result.window_end - w.result.window_start == timedelta(days=14)
               for w in found.windows)
    covered = log.discharged_at < "2025-06-21"  # the last 9 days make no whole window
    assert sum(w.result.n for w in found.windows) == int(covered.sum()) < len(log)
    drift = [a for a in found.alerts if a.rule == "drift"]
    assert len(drift) == 1
    shifted = next(i for i, s in enumerate(starts)
                   if s <= pd.Timestamp(SHIFT, tz="UTC") < s + timedelta(days=14))
    raised = starts.index(drift[0].first_window_start)
    assert 0 <= raised - shifted <= 2
    assert "creatinine_mg_dl" in drift[0].title
    assert drift[0].state == "open"
    assert [a.rule for a in found.windows[raised].alerts_raised] == ["drift"]
    assert found.windows[raised].status == "amber"
    assert all(w.status == "green" for w in found.windows[:shifted])
    assert {r.name for r in found.rules} == {r.name for r in DEFAULT_RULES}
    auroc = found.windows[0].result.signals["auroc"]
    assert auroc.ci_low is not None and auroc.ci_high is not None
    assert 0.6 < auroc.ci_low < auroc.value < auroc.ci_high <= 1.0
    assert "flag_rate" in found.windows[0].result.signals


def test_without_a_threshold_the_flag_rate_rule_is_left_out(log: pd.DataFrame,
                                                            reference: pd.DataFrame) -> None:
    found = backtest(log, reference, **ROLES, window="4w", features=["age"])
    assert [r.name for r in found.rules] == ["drift", "auroc-cusum", "oe-ratio", "oe-cusum",
                                             "no-data"]
    assert len(found.windows) == 4
    assert "flag_rate" not in found.windows[0].result.signals


def test_late_labels_count_only_when_known_the_day_after_the_log(
        log: pd.DataFrame, reference: pd.DataFrame) -> None:
    found = backtest(log, reference, **ROLES, window="14d", features=["age"],
                     label_time="label_available_at")
    last = found.windows[-1].result
    assert last.as_of == datetime(2025, 7, 1, tzinfo=UTC)
    known = int((log["label_available_at"] <= "2025-07-01").sum())
    assert sum(w.result.n_labelled for w in found.windows) == known
    assert last.n_labelled == 0 and "auroc" in last.undefined
    assert found.windows[0].result.n_labelled == found.windows[0].result.n


def test_given_rules_replace_the_defaults_and_one_alert_follows_a_lasting_signal(
        log: pd.DataFrame, reference: pd.DataFrame) -> None:
    always = AlertRule.model_validate({"name": "volume", "metric": "volume",
                                       "when": "value >= 1", "severity": "info"})
    found = backtest(log, reference, **ROLES, window="14d", features=["age"],
                     alerts=[always])
    assert [a.rule for a in found.alerts] == ["volume"]
    assert found.alerts[0].first_window_start == found.windows[0].result.window_start
    assert found.alerts[0].last_window_start == found.windows[-1].result.window_start
    assert [len(w.alerts_raised) for w in found.windows] == [1, 0, 0, 0, 0, 0, 0, 0]
    assert {w.status for w in found.windows} == {"green"}


def test_json_document(log: pd.DataFrame, reference: pd.DataFrame) -> None:
    found = backtest(log, reference, **ROLES, window="14d", features=FEATURES)
    document = json.loads(json.dumps(found.to_json()))
    assert set(document) == {"monitor", "windows", "alerts", "rules"}
    assert document["monitor"] == "backtest"
    window = document["windows"][3]
    assert set(window) == {"start", "end", "n", "n_labelled", "label_maturity", "metrics",
                           "undefined", "drifted_features", "status", "alerts_raised"}
    assert window["start"] == "2025-04-12T00:00:00+00:00"
    assert window["alerts_raised"][0]["rule"] == "drift"
    assert "creatinine_mg_dl" in window["drifted_features"]
    assert window["metrics"]["auroc"]["value"] == pytest.approx(
        found.windows[3].result.signals["auroc"].value)
    assert document["alerts"][0]["state"] == "open"
    assert document["rules"][2] == {"name": "oe-ratio", "severity": "critical",
                                    "metric": "oe_ratio", "when": "ci outside [0.8, 1.2]",
                                    "for_windows": 1, "resolve_after": 2,
                                    "cooldown_windows": 0}


def test_files_and_the_default_features(tmp_path: Path, log: pd.DataFrame,
                                        reference: pd.DataFrame,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    log.to_parquet(tmp_path / "log.parquet")
    reference.to_csv(tmp_path / "reference.csv", index=False)
    found = backtest(tmp_path / "log.parquet", tmp_path / "reference.csv", **ROLES,
                     window="2w")
    assert found.monitor == "backtest log.parquet"
    assert "creatinine_mg_dl" in found.spec.features
    assert not {"readmit_30d", "true_risk", "encounter_id", "sex"} & set(found.spec.features)
    assert not (tmp_path / "never.db").exists()


def test_bad_input_names_the_problem(log: pd.DataFrame, reference: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="no column 'risk'"):
        backtest(log, reference, time="discharged_at", target="readmit_30d", score="risk")
    with pytest.raises(InputError, match="duration '7 fortnights'"):
        backtest(log, reference, **ROLES, window="7 fortnights")
    with pytest.raises(PlanError, match="threshold"):
        backtest(log, reference, **ROLES, threshold=1.5)
