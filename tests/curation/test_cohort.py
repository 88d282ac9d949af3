"""Cohort builder and its flow diagram: counts against pandas, refused expressions, rendering."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pandas as pd
import pytest

from assay.curation._cohort import CohortSpec, CohortStep, build_cohort, check_expression
from assay.curation._flow import flow_png, flow_svg
from assay.datasets import make_inpatient_cohort
from assay.errors import InputError, PlanError

SPEC = """\
name: Adult discharges with creatinine
count_by: patient_id
steps:
  - include: age >= 65
    reason: Aged 65 or over
  - exclude: discharge_disposition == 'Other'
    reason: Discharged to another or unknown destination
  - exclude: creatinine_mg_dl.isna()
    reason: No creatinine measured during the stay
  - exclude: language.isin(['Other']) or length_of_stay_days > 20
    reason: Interpreter unavailable or very long stay
"""


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_inpatient_cohort(3_000, seed=11)


@pytest.fixture(scope="module")
def spec() -> CohortSpec:
    return CohortSpec.from_yaml(SPEC, source="cohort.yaml")


def test_attrition_counts_match_pandas(frame: pd.DataFrame, spec: CohortSpec) -> None:
    cohort = build_cohort(frame, spec)
    step1 = frame[frame["age"] >= 65]
    step2 = step1[step1["discharge_disposition"] != "Other"]
    step3 = step2[step2["creatinine_mg_dl"].notna()]
    step4 = step3[~((step3["language"] == "Other") | (step3["length_of_stay_days"] > 20))]
    expected = [frame, step1, step2, step3, step4]
    table = cohort.attrition_table()
    assert list(table["n_before"]) == [len(f) for f in expected[:-1]]
    assert list(table["n_after"]) == [len(f) for f in expected[1:]]
    assert list(table["n_excluded"]) == [len(a) - len(b) for a, b in itertools.pairwise(expected)]
    assert list(table["kind"]) == ["include", "exclude", "exclude", "exclude"]
    patients = [f["patient_id"].nunique() for f in expected]
    assert list(table["units_before"]) == patients[:-1]
    assert list(table["units_after"]) == patients[1:]
    assert list(table["units_excluded"]) == [a - b for a, b in itertools.pairwise(patients)]
    # the steps remove something real, so the test can fail
    assert all(n > 0 for n in table["n_excluded"])
    assert cohort.frame.index.equals(step4.index)
    assert cohort.attrition.n_start == 3_000
    assert cohort.attrition.n_final == len(step4)
    assert cohort.attrition.units_final == step4["patient_id"].nunique()
    assert cohort.attrition.spec_fingerprint == spec.fingerprint
    assert len(frame) == 3_000  # the source is not changed


def test_without_count_by_there_are_no_unit_columns(frame: pd.DataFrame) -> None:
    spec = CohortSpec(name="adults", steps=[CohortStep(include="age >= 40", reason="40+")])
    table = build_cohort(frame, spec).attrition_table()
    assert list(table.columns) == ["step", "kind", "reason", "expression", "n_before",
                                   "n_excluded", "n_after"]
    assert table.loc[0, "n_after"] == int((frame["age"] >= 40).sum())


def test_count_by_argument_overrides_spec(frame: pd.DataFrame, spec: CohortSpec) -> None:
    cohort = build_cohort(frame, spec, count_by="encounter_id")
    assert cohort.attrition.count_by == "encounter_id"
    assert cohort.attrition.units_start == 3_000


@pytest.mark.parametrize(("expression", "message"), [
    ("age >=", "not a valid expression"),
    ("weight_kg > 80", "unknown column 'weight_kg'"),
    ("age.__class__", "'.__class__' is not allowed"),
    ("__import__('os')", "only the column methods"),
    ("age > @limit", "'@' variables are not allowed"),
    ("age.apply(print)", "only the column methods"),
    ("age.str.lower() == 'x'", "only the column methods"),
    ("age.isna(keep=True)", "positional arguments only"),
    ("age + 1", "must give True or False for each row, got values of type int64"),
    ("lambda: 1", "Lambda is not allowed"),
])
def test_bad_expression_names_step_and_expression(frame: pd.DataFrame, expression: str,
                                                  message: str) -> None:
    spec_steps = [CohortStep(include="age >= 18", reason="adults")]
    with pytest.raises(InputError) as info:
        spec = CohortSpec(name="bad", steps=[*spec_steps,
                                             CohortStep(exclude=expression, reason="bad")])
        build_cohort(frame, spec)
    text = str(info.value)
    assert "step 2" in text
    assert repr(expression) in text
    assert message in text


def test_check_expression_allows_backtick_columns() -> None:
    check_expression("`heart rate` > 100", 1, ["heart rate"])
    with pytest.raises(InputError, match="unknown column 'pulse'"):
        check_expression("`pulse` > 100", 1, ["heart rate"])


def test_yaml_errors_name_line_and_field() -> None:
    text = SPEC.replace("  - exclude: creatinine_mg_dl.isna()\n",
                        "  - exclude: creatinine_mg_dl.isna(\n")
    with pytest.raises(PlanError) as info:
        CohortSpec.from_yaml(text, source="cohort.yaml")
    assert str(info.value).startswith("cohort.yaml line 8, steps[2].exclude: cohort step 3, "
                                      "expression 'creatinine_mg_dl.isna(': not a valid")
    with pytest.raises(PlanError, match=r"cohort.yaml line 4, steps\[0\]: a step has exactly "
                                        "one of 'include:' or 'exclude:'"):
        CohortSpec.from_yaml(SPEC.replace("  - include: age >= 65\n",
                                          "  - include: age >= 65\n    exclude: age > 90\n"),
                             source="cohort.yaml")
    with pytest.raises(PlanError,
                       match=r"cohort.yaml line 6, steps\[0\].why: unknown field 'why'"):
        CohortSpec.from_yaml(SPEC.replace("    reason: Aged 65 or over\n",
                                          "    reason: Aged 65 or over\n    why: x\n"),
                             source="cohort.yaml")


def test_missing_result_is_refused() -> None:
    frame = pd.DataFrame({"flag": pd.array([True, None, False], dtype="boolean")})
    spec = CohortSpec(name="x", steps=[CohortStep(include="flag", reason="flagged")])
    with pytest.raises(InputError, match="gives a missing value for 1 rows"):
        build_cohort(frame, spec)


def test_flow_svg_holds_every_count(frame: pd.DataFrame, spec: CohortSpec) -> None:
    attrition = build_cohort(frame, spec).attrition
    svg = flow_svg(attrition)
    text = " ".join(re.findall(r">([^<]+)<", svg))
    assert f"n = {attrition.n_start:,}" in text
    for step in attrition.steps:
        assert f"n = {step.n_after:,}" in text
        assert f"Excluded n = {step.n_excluded:,}" in text
        assert step.reason.split()[0] in text
    assert svg.startswith("<svg role=\"img\"")
    assert "http://" not in svg.replace("http://www.w3.org", "")
    assert flow_svg(attrition) == svg  # same record, same bytes


def test_flow_png(frame: pd.DataFrame, spec: CohortSpec, tmp_path: Path) -> None:
    png = flow_png(build_cohort(frame, spec).attrition)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "flow.png"
    path.write_bytes(png)
    from matplotlib.image import imread

    image = imread(path)
    height, width = image.shape[:2]
    assert width == int(7.8 * 150)
    assert height > width  # a top-down column of boxes
