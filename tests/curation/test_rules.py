"""Quality rules, duplicates and constant columns on synthetic data with injected problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.curation._duplicates import constant_columns, exact_duplicates, near_duplicates
from assay.curation._rules import FreshnessRule, RangeRule
from assay.curation._run_rules import rule_from_dict, rules_from_dicts, run_rules
from assay.datasets import make_inpatient_cohort
from assay.errors import InputError, PlanError


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return make_inpatient_cohort(3_000, seed=11)


def test_clean_cohort_passes_every_rule(cohort: pd.DataFrame) -> None:
    patients = pd.DataFrame({"patient_id": cohort["patient_id"].unique()})
    rules = [
        {"rule": "not_null", "column": "encounter_id"},
        {"rule": "not_null", "column": "lactate_mmol_l", "max_missing_share": 0.8},
        {"rule": "range", "column": "age", "min": 18, "max": 120},
        {"rule": "allowed_values", "column": "sex", "values": ["F", "M", "Unknown"]},
        {"rule": "unique", "columns": "encounter_id"},
        {"rule": "regex", "column": "patient_id", "pattern": r"P\d{7}"},
        {"rule": "row_count", "min": 1000, "max": 5000},
        {"rule": "freshness", "column": "discharged_at", "max_age": "2d",
         "as_of": "2025-07-01"},
        {"rule": "order", "earlier": "admitted_at", "later": "discharged_at"},
        {"rule": "referential", "column": "patient_id", "table": "patients",
         "table_column": "patient_id"},
    ]
    findings = run_rules(cohort, rules, tables={"patients": patients})
    assert [f.status for f in findings] == ["pass"] * len(rules)
    assert [f.n_rows for f in findings] == [0, int(cohort["lactate_mmol_l"].isna().sum())] + [0] * 8


def test_injected_problems_are_counted_with_their_columns(cohort: pd.DataFrame) -> None:
    broken = cohort.copy()
    rng = np.random.default_rng(5)
    rows = rng.choice(len(broken), size=40, replace=False)
    broken.loc[rows[:7], "age"] = [150, 3, 200, -1, 999, 121, 17]
    broken.loc[rows[7:19], "sex"] = "female"
    broken.loc[rows[19:24], "encounter_id"] = broken.loc[rows[24:29], "encounter_id"].to_numpy()
    broken.loc[rows[29:32], "patient_id"] = ["X1", "P12", "p0000001"]
    swapped = rows[32:36]
    broken.loc[swapped, "discharged_at"] = broken.loc[swapped, "admitted_at"] - pd.Timedelta(
        hours=3)
    broken.loc[rows[36:40], "encounter_id"] = None
    patients = pd.DataFrame({"patient_id": cohort["patient_id"].unique()[5:]})
    orphans = int(broken["patient_id"].isin(cohort["patient_id"].unique()[:5]).sum()) + 3
    findings = run_rules(broken, rules_from_dicts([
        {"rule": "range", "column": "age", "min": 18, "max": 120},
        {"rule": "allowed_values", "column": "sex", "values": ["F", "M", "Unknown"]},
        {"rule": "unique", "columns": ["encounter_id"]},
        {"rule": "regex", "column": "patient_id", "pattern": r"P\d{7}"},
        {"rule": "order", "earlier": "admitted_at", "later": "discharged_at"},
        {"rule": "not_null", "column": "encounter_id", "severity": "warn"},
        {"rule": "referential", "column": "patient_id", "table": "patients",
         "table_column": "patient_id"},
    ]), tables={"patients": patients})
    counts = {f.rule: (f.columns, f.n_rows, f.status) for f in findings}
    assert counts == {
        "range": (("age",), 7, "fail"),
        "allowed_values": (("sex",), 12, "fail"),
        "unique": (("encounter_id",), 5 + 3, "fail"),  # 5 copied ids, 4 missing ids
        "regex": (("patient_id",), 3, "fail"),
        "order": (("admitted_at", "discharged_at"), 4, "fail"),
        "not_null": (("encounter_id",), 4, "warn"),
        "referential": (("patient_id",), orphans, "fail"),
    }
    range_finding = findings[0]
    assert set(range_finding.examples) <= set(rows[:7].tolist())
    assert len(range_finding.examples) == 5
    assert "999" not in range_finding.message and "7 rows" in range_finding.message


def test_missing_share_threshold_and_row_count() -> None:
    frame = pd.DataFrame({"x": [1.0, None, None, 4.0]})
    [loose, strict, size] = run_rules(frame, [
        {"rule": "not_null", "column": "x", "max_missing_share": 0.5},
        {"rule": "not_null", "column": "x", "max_missing_share": 0.49},
        {"rule": "row_count", "min": 5},
    ])
    assert (loose.status, loose.n_rows, loose.details["missing_share"]) == ("pass", 2, 0.5)
    assert (strict.status, strict.examples) == ("fail", (1, 2))
    assert (size.status, size.details["row_count"]) == ("fail", 4)


def test_range_is_inclusive_and_freshness_compares_with_as_of() -> None:
    frame = pd.DataFrame({"age": [18, 120, 17.5],
                          "seen": pd.to_datetime(["2025-01-01 00:00", "2025-01-03 12:00", None])})
    assert RangeRule(column="age", min=18, max=120).check(frame).n_rows == 1
    fresh = FreshnessRule(column="seen", max_age="36h", as_of=pd.Timestamp("2025-01-05"))
    stale = FreshnessRule(column="seen", max_age="1d", as_of=pd.Timestamp("2025-01-05"))
    assert fresh.check(frame).status == "pass"
    assert stale.check(frame).status == "fail"
    assert stale.check(frame).details["age_hours"] == 36.0


def test_bad_rules_and_columns_give_errors_naming_them() -> None:
    with pytest.raises(PlanError, match="'rule' must be one of"):
        rule_from_dict({"rule": "between", "column": "age"})
    with pytest.raises(PlanError, match="max_age"):
        rule_from_dict({"rule": "freshness", "column": "t", "max_age": "soon"})
    with pytest.raises(PlanError, match="unknown field 'maximum'"):
        rule_from_dict({"rule": "range", "column": "age", "maximum": 3})
    with pytest.raises(InputError, match="column 'weight'"):
        run_rules(pd.DataFrame({"age": [1]}), [{"rule": "range", "column": "weight", "min": 0}])
    with pytest.raises(InputError, match="needs the table 'patients'"):
        run_rules(pd.DataFrame({"p": [1]}), [{"rule": "referential", "column": "p",
                                              "table": "patients", "table_column": "p"}])


def test_rules_are_frozen_and_round_trip_through_dicts() -> None:
    rule = rule_from_dict({"rule": "range", "column": "age", "min": 18, "max": 120})
    assert rule_from_dict(rule.model_dump()) == rule
    with pytest.raises(ValueError, match="frozen"):
        rule.column = "weight"  # type: ignore[misc]


def test_exact_and_near_duplicates_are_counted_apart(cohort: pd.DataFrame) -> None:
    base = cohort.head(500)
    copies = base.iloc[[3, 3, 10, 20, 30]]
    near = base.iloc[[40, 50, 60, 70]].copy()
    near["encounter_id"] = ["E9000001", "E9000002", "E9000003", "E9000004"]
    near["patient_id"] = ["P9000001", "P9000002", "P9000003", "P9000004"]
    near["sex"] = near["sex"].str.upper().str.pad(4)
    near["true_risk"] = near["true_risk"] + 0.0001
    frame = pd.concat([base, copies, near], ignore_index=True)
    exact = exact_duplicates(frame)
    assert (exact.n_rows, exact.details["groups"], exact.status) == (5, 4, "fail")
    assert exact.examples == (500, 501, 502, 503, 504)
    similar = near_duplicates(frame, tolerance=0.01)
    assert (similar.n_rows, similar.examples, similar.status) == (4, (505, 506, 507, 508), "warn")
    assert "encounter_id" not in similar.columns and "sex" in similar.columns
    assert near_duplicates(base).n_rows == 0 and exact_duplicates(base).n_rows == 0


def test_constant_and_near_constant_columns(cohort: pd.DataFrame) -> None:
    frame = cohort.head(1000).copy()
    frame["site"] = "north"
    frame["device"] = ["pump-a"] * 995 + ["pump-b"] * 5
    frame["empty"] = np.nan
    findings = {f.columns[0]: f for f in constant_columns(frame)}
    assert sorted(findings) == ["device", "empty", "site"]
    assert (findings["site"].rule, findings["site"].status) == ("constant_column", "fail")
    assert findings["device"].rule == "near_constant_column"
    assert (findings["device"].n_rows, findings["device"].details["top_share"]) == (5, 0.995)
    assert [f.columns for f in constant_columns(frame, threshold=0.999)] == [("site",),
                                                                              ("empty",)]
