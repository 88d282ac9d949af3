"""Datasheets: filled from the profile and the cohort, given answers checked, HTML and JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from assay.curation._cohort import Cohort, CohortSpec, CohortStep, build_cohort
from assay.curation._datasheet import (
    DATASHEET_QUESTIONS,
    SECTION_TITLES,
    answers_from_yaml,
    build_datasheet,
)
from assay.curation._profile import profile
from assay.datasets import make_inpatient_cohort
from assay.errors import InputError, PlanError

ANSWERS = {
    "motivation": {"purpose": "External validation of a 30-day readmission model."},
    "composition": {"instances": "One row per adult inpatient discharge.",
                    "label": "readmit_30d: unplanned readmission within 30 days."},
    "maintenance": {"contact": "data-steward@example.org"},
}


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    frame = make_inpatient_cohort(2_000, seed=5)
    spec = CohortSpec(name="Adults with creatinine", count_by="patient_id", steps=[
        CohortStep(include="age >= 30", reason="Aged 30 or over"),
        CohortStep(exclude="creatinine_mg_dl.isna()", reason="No creatinine measured")])
    return build_cohort(frame, spec)


def test_sections_and_filled_facts(cohort: Cohort) -> None:
    frame = cohort.frame
    sheet = build_datasheet("Readmissions", profile=profile(frame), attrition=cohort.attrition,
                            answers=ANSWERS)
    data = json.loads(sheet.to_json())
    assert [s["key"] for s in data["sections"]] == list(SECTION_TITLES)
    assert [s["title"] for s in data["sections"]][2] == "Collection process"
    assert data["facts"]["n_rows"] == len(frame)
    assert data["facts"]["n_columns"] == frame.shape[1]
    coverage = {t["column"]: t for t in data["facts"]["time_coverage"]}
    assert set(coverage) == {"admitted_at", "discharged_at", "label_available_at"}
    first = datetime.fromisoformat(coverage["discharged_at"]["first"])
    last = datetime.fromisoformat(coverage["discharged_at"]["last"])
    assert first == frame["discharged_at"].min().to_pydatetime()
    assert last == frame["discharged_at"].max().to_pydatetime()
    assert coverage["discharged_at"]["days_with_data"] == frame["discharged_at"].dt.normalize(
        ).nunique()
    columns = {c["name"]: c for c in data["facts"]["columns"]}
    assert columns["lactate_mmol_l"]["missing"] == int(frame["lactate_mmol_l"].isna().sum())
    assert columns["creatinine_mg_dl"]["missing"] == 0

    count = sheet.answer("composition", "count")
    assert count.source == "profile"
    assert count.answer == (f"{len(frame):,} rows from {frame['patient_id'].nunique():,} "
                            "distinct patient_id.")
    timeframe = sheet.answer("collection", "timeframe")
    assert f"discharged_at from {first:%Y-%m-%d} to {last:%Y-%m-%d}" in (timeframe.answer or "")
    missing = sheet.answer("composition", "missing").answer or ""
    lactate = frame["lactate_mmol_l"].isna().mean()
    assert missing.startswith(f"{int((frame.isna().sum() > 0).sum())} of {frame.shape[1]} "
                              f"columns have missing values: lactate_mmol_l {lactate:.1%}")
    cleaning = sheet.answer("preprocessing", "cleaning")
    assert cleaning.source == "cohort"
    for step in cohort.attrition.steps:
        assert f"{step.n_excluded:,} rows excluded, {step.n_after:,} left" in (cleaning.answer
                                                                              or "")
    assert sheet.answer("motivation", "purpose").source == "given"

    total = sum(len(q) for q in DATASHEET_QUESTIONS.values())
    answered = 4 + 6  # given + filled (count, sample, instance_data, missing, timeframe, cleaning)
    assert data["n_questions"] == total
    assert data["n_answered"] == answered
    assert data["completeness"] == pytest.approx(answered / total)
    assert len(data["missing"]) == total - answered
    assert "motivation.funding" in data["missing"]
    assert "motivation.purpose" not in data["missing"]
    assert data["attrition"]["n_start"] == 2_000
    assert data["attrition"]["steps"][1]["n_after"] == len(frame)


def test_given_answer_wins_over_filled(cohort: Cohort) -> None:
    sheet = build_datasheet("x", profile=profile(cohort.frame),
                            answers={"composition": {"count": "About two thousand stays."}})
    item = sheet.answer("composition", "count")
    assert (item.answer, item.source) == ("About two thousand stays.", "given")


def test_without_data_only_given_answers() -> None:
    sheet = build_datasheet("bare", answers=ANSWERS)
    assert sheet.n_answered == 4
    assert sheet.facts is None
    assert sheet.answer("composition", "count").answer is None


@pytest.mark.parametrize(("answers", "message"), [
    ({"motive": {"purpose": "x"}}, "unknown datasheet section 'motive' (sections: motivation, "),
    ({"uses": {"license": "x"}}, "uses: unknown question 'license' (questions: used_for, "),
    ({"uses": {"risks": ""}}, "uses.risks: the answer must be non-empty text"),
    ({"uses": "none"}, "uses: give a mapping of question to answer"),
])
def test_bad_answers(answers: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        build_datasheet("x", answers=answers)
    assert message in str(info.value)


def test_answers_from_yaml_name_the_line() -> None:
    text = "motivation:\n  purpose: Validation.\nuses:\n  used_for: Nothing yet.\n  licence: CC\n"
    with pytest.raises(PlanError, match=r"^answers.yaml line 5, uses: unknown question 'licence'"):
        answers_from_yaml(text, source="answers.yaml")
    assert answers_from_yaml(text.replace("  licence: CC\n", ""), source="answers.yaml") == {
        "motivation": {"purpose": "Validation."}, "uses": {"used_for": "Nothing yet."}}


def test_html_holds_sections_and_diagram(cohort: Cohort, tmp_path: Path) -> None:
    sheet = build_datasheet("Readmissions <2024>", profile=profile(cohort.frame),
                            attrition=cohort.attrition, answers=ANSWERS)
    path = tmp_path / "datasheet.html"
    html = sheet.to_html(path)
    assert path.read_text(encoding="utf-8") == html
    for title in SECTION_TITLES.values():
        assert f"<h2>{title}</h2>" in html
    assert "Readmissions &lt;2024&gt;" in html  # escaped
    assert html.count("<svg") == 1
    assert 'aria-labelledby="flow-adults-with-creatinine-title' in html
    for step in cohort.attrition.steps:
        assert f"Excluded n = {step.n_excluded:,}" in html
    assert f"{sheet.n_answered} of\n{sheet.n_questions} questions answered" in html
    assert re.search(r"<(script|link|img)\b", html) is None
    assert "Not answered." in html
