"""A plan's data steps: the cohort chosen first, quality checks on it, both kept in the Run and
shown in its reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay._demo_extract import warehouse_extract
from assay.checks import Plan, Run, validate
from assay.datasets import make_inpatient_cohort
from assay.errors import InputError

PLAN = """
name: with-data-steps
roles: {target: outcome, score: risk, id: encounter_id, time: discharged_at}
cohort:
  name: adults-known-outcome
  count_by: patient_id
  steps:
    - {exclude: "encounter_id.duplicated()", reason: sent twice}
    - {include: "age >= 18", reason: adults}
    - {exclude: "outcome.isna()", reason: outcome unknown}
quality:
  rules:
    - {rule: unique, columns: [encounter_id]}
    - {rule: range, column: age, min: 18, max: 110, severity: warn}
  plausibility: {lactate: lactate}
checks:
  - {metric: auroc, condition: ci_low >= 0.6}
"""


@pytest.fixture(scope="module")
def extract(cohort: pd.DataFrame) -> pd.DataFrame:
    """The checks' cohort with an age, a patient, and the blemishes of an extract."""
    rng = np.random.default_rng(5)
    frame = cohort.copy()
    frame["patient_id"] = [f"P{i // 2:05d}" for i in range(len(frame))]
    frame["age"] = rng.integers(30, 90, len(frame))
    frame["outcome"] = frame["outcome"].astype("float64")
    frame.loc[[3, 40, 41], "age"] = [15, 16, 17]          # three children
    frame.loc[range(100, 110), "outcome"] = np.nan       # ten outcomes not yet known
    frame.loc[[7, 8], "lactate"] = [-1.0, 99.0]           # two impossible lactates
    return pd.concat([frame, frame.iloc[[5, 6]]], ignore_index=True)  # two rows sent twice


def test_cohort_steps_run_before_the_checks_and_the_run_keeps_the_attrition(
        extract: pd.DataFrame) -> None:
    run = validate(Plan.from_yaml(PLAN), extract)
    attrition = run.data.cohort
    assert attrition is not None and attrition.n_start == 2002
    assert [(s.reason, s.n_excluded) for s in attrition.steps] == [
        ("sent twice", 2), ("adults", 3), ("outcome unknown", 10)]
    assert run.data.n == 2002 - 15 == attrition.n_final
    kept = extract.drop_duplicates("encounter_id")
    kept = kept[(kept["age"] >= 18) & kept["outcome"].notna()]
    assert run.data.n_events == int(kept["outcome"].sum())
    assert run.metric("auroc").n == len(kept)


def test_each_quality_finding_is_a_check_of_the_run(extract: pd.DataFrame) -> None:
    run = validate(Plan.from_yaml(PLAN), extract)
    quality = {r.id: r for r in run.results if r.kind == "quality"}
    assert list(quality) == ["unique[encounter_id]", "range[age]", "plausible_range[lactate]"]
    assert [r.kind for r in run.results[:3]] == ["quality"] * 3  # data before the model
    lactate = quality["plausible_range[lactate]"]
    assert lactate.status == "fail" and lactate.finding is not None
    # positions in the cohort: the child in row 3 is gone, so rows 7 and 8 are now 6 and 7
    assert lactate.finding.n_rows == 2 and lactate.finding.examples == (6, 7)
    assert lactate.title == "Physiologically possible values of lactate"
    assert quality["unique[encounter_id]"].status == "pass"  # the cohort dropped the copies
    assert quality["range[age]"].status == "pass"            # and the children
    assert run.status == "fail" and not run.passed


def test_the_run_with_data_steps_reads_back_and_renders(extract: pd.DataFrame,
                                                         tmp_path: Path) -> None:
    run = validate(Plan.from_yaml(PLAN), extract)
    again = Run.model_validate_json(run.to_json())
    assert again == run and again.to_json(timings=False) == run.to_json(timings=False)
    html = run.to_html()
    assert '<section id="data"' in html and '<a href="#data">Data</a>' in html
    assert "kept 1,987 of the 2,002 records given" in html
    assert "<svg" in html.split('<section id="data"')[1].split("</section>")[0]
    assert "2 of 1,987 values of &#39;lactate&#39;" in html
    suite = ET.fromstring(run.to_junit())
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "plausible_range[lactate]" in names


def test_a_plan_without_data_steps_keeps_its_fingerprint_and_its_report() -> None:
    plain = Plan.from_yaml(PLAN.split("cohort:")[0]
                           + "checks:\n  - {metric: auroc, condition: value >= 0.5}\n")
    dumped = plain.model_dump(mode="json", exclude={"cohort", "quality"})
    from assay.data import json_fingerprint

    assert plain.fingerprint == json_fingerprint(dumped)
    with_steps = Plan.from_yaml(PLAN)
    assert with_steps.fingerprint != Plan.from_yaml(PLAN.replace("age >= 18", "age >= 21")
                                                    ).fingerprint


def test_a_cohort_step_naming_an_unknown_column_is_an_input_error(extract: pd.DataFrame) -> None:
    plan = Plan.from_yaml(PLAN.replace("age >= 18", "age_years >= 18"))
    with pytest.raises(InputError, match=r"cohort 'adults-known-outcome'.*age_years"):
        validate(plan, extract)


def test_a_quality_rule_naming_an_unknown_column_is_an_input_error(
        extract: pd.DataFrame) -> None:
    plan = Plan.from_yaml(PLAN.replace("column: age, min", "column: age_y, min"))
    with pytest.raises(InputError, match=r"quality checks: .*'age_y'"):
        validate(plan, extract)


def test_the_demo_extract_is_cleaned_by_the_example_plan() -> None:
    """The demo's blemishes are each caught: by a cohort step or by a named quality finding."""
    from assay._demo import example_plan_path

    clean = make_inpatient_cohort(4000, seed=2)
    clean = clean[clean["discharged_at"] >= "2024-07-01"].copy()
    extract = warehouse_extract(clean, seed=2)
    plan = Plan.load(example_plan_path())
    assert plan.cohort is not None and plan.quality is not None
    frame = extract.frame.assign(risk=0.1, challenger_risk=0.1)
    from assay.checks._data_checks import judge_quality, select_cohort

    data, attrition = select_cohort(plan, frame, plan.roles)  # type: ignore[arg-type]
    assert attrition is not None
    excluded = {s.reason.split(" ")[0]: s.n_excluded for s in attrition.steps}
    assert excluded["the"] == extract.added["resent"]
    assert excluded["died"] >= 1 and excluded["transferred"] >= 1
    assert excluded["fewer"] >= 1
    findings = {r.id: r for r in judge_quality(plan, data)}
    temperature = findings["unit_mismatch[temp_c]"]
    assert temperature.status in ("warn", "fail") and temperature.finding is not None
    assert 0 < temperature.finding.n_rows <= extract.added["fahrenheit"]
    assert temperature.finding.details["first"] >= "2025-02-01"
    assert findings["unique[encounter_id]"].status == "pass"


def test_the_tripod_participants_item_gives_the_attrition(extract: pd.DataFrame) -> None:
    from assay.reports._tripod import tripod_items

    run = validate(Plan.from_yaml(PLAN), extract)
    [participants] = [i for i in tripod_items(run) if i.number == "20a"]
    assert participants.text.startswith("1,987 records")
    assert ("cohort “adults-known-outcome” chosen from 2,002 records (sent twice: 2 excluded; "
            "adults: 3 excluded; outcome unknown: 10 excluded)") in participants.text
