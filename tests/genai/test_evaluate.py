"""evaluate(): which metrics each record gets, the summary's means and intervals, the plan's
checks, the JSON shape the issue fixes, the report and JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from assay.errors import InputError, PlanError
from assay.genai import (
    EvalPlan,
    Evaluation,
    Record,
    evaluate,
    records_from,
    reference_metrics,
)

SOURCE = ("72-year-old man admitted with community-acquired pneumonia. Denies chest pain. "
          "Left lower lobe consolidation on X-ray. Discharged on amoxicillin 500 mg three "
          "times daily for 5 days.")


def _records() -> list[Record]:
    return records_from([
        {"id": "s1", "task": "summarization", "source": SOURCE,
         "output": "Pneumonia, left lower lobe. Amoxicillin 500 mg three times daily, 5 days.",
         "reference": "Left lower lobe pneumonia treated with amoxicillin 500 mg for 5 days.",
         "metadata": {"sex": "M"}},
        {"id": "s2", "task": "summarization", "source": SOURCE,
         "output": "Pneumonia with chest pain, right lower lobe. Amoxicillin 1000 mg daily.",
         "reference": "Left lower lobe pneumonia treated with amoxicillin 500 mg for 5 days.",
         "metadata": {"sex": "F"}},
        {"id": "m1", "task": "patient_message", "input": "I have crushing chest pain now.",
         "output": "Thank you for your message. We will look at it on Monday.",
         "metadata": {"sex": "F"}},
        {"id": "r1", "task": "rag", "input": "First-line antibiotic for CAP?",
         "contexts": [{"id": "g1", "text": "Amoxicillin is first line for mild CAP."},
                      {"id": "g2", "text": "Doxycycline is an alternative."}],
         "reference_contexts": ["g1"],
         "output": "Amoxicillin is first line [g1]; see also [g9]."},
        {"id": "e1", "task": "extraction", "source": SOURCE,
         "output": '{"medications": [{"name": "amoxicillin", "dose": "500 mg"}]}'},
    ])


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(_records(), EvalPlan(strata=("sex",)), source="hand-written")


def test_each_record_gets_the_metrics_that_apply_to_it(evaluation: Evaluation) -> None:
    summary = evaluation.item("s1").metrics
    assert {k: summary[k] for k in reference_metrics("", "x")} == reference_metrics(
        _records()[0].output, _records()[0].reference or "")
    assert set(evaluation.item("m1").metrics) == {"length_words", "readability_grade",
                                                  "safety_net"}
    assert set(evaluation.item("r1").metrics) == {
        "length_words", "citation_validity", "context_precision", "context_recall",
        "answer_context_overlap"}
    assert evaluation.item("r1").metrics["citation_validity"] == 0.5
    assert evaluation.item("r1").metrics["context_recall"] == 1.0
    assert evaluation.item("e1").metrics["json_valid"] == 1.0
    assert evaluation.item("m1").metrics["safety_net"] == 0.0


def test_flags_point_at_the_offending_words(evaluation: Evaluation) -> None:
    flags = {(f.type, f.span.text if f.span else None) for f in evaluation.item("s2").flags}
    types = {t for t, _ in flags}
    assert {"negation_conflict", "laterality_conflict", "unsupported_number"} <= types
    assert not evaluation.item("s1").flags
    output = _records()[1].output
    for flag in evaluation.item("s2").flags:
        assert flag.span is not None and output[flag.span.start:flag.span.end] == flag.span.text
    assert [f.type for f in evaluation.item("m1").flags] == ["missing_safety_net"]
    assert [f.type for f in evaluation.item("r1").flags] == ["invalid_citation"]


def test_the_summary_gives_means_with_intervals_and_flag_shares(
        evaluation: Evaluation) -> None:
    rouge = evaluation.summary.metrics["rougeL"]
    values = [evaluation.item(i).metrics["rougeL"] for i in ("s1", "s2")]
    assert rouge.n == 2 and rouge.mean == pytest.approx(float(np.mean(values)), abs=1e-12)
    assert rouge.ci_low is not None and rouge.ci_high is not None
    assert min(values) <= rouge.ci_low <= rouge.mean <= rouge.ci_high <= max(values)
    negation = evaluation.summary.flags["negation_conflict"]
    low, high = proportion_confint(1, 5, alpha=0.05, method="wilson")
    assert (negation.items_flagged, negation.n) == (1, 5)
    assert negation.ci_low == pytest.approx(low, abs=1e-12)
    assert negation.ci_high == pytest.approx(high, abs=1e-12)
    assert evaluation.data.tasks == {"extraction": 1, "patient_message": 1, "rag": 1,
                                     "summarization": 2}


def test_the_json_has_items_and_a_summary_and_is_reproducible(evaluation: Evaluation) -> None:
    document = json.loads(evaluation.to_json())
    item = next(i for i in document["items"] if i["id"] == "s2")
    assert set(item) >= {"id", "metrics", "flags"}
    assert set(item["flags"][0]) == {"type", "span", "detail"}
    assert set(document["summary"]["metrics"]["rougeL"]) >= {"mean", "ci_low", "ci_high", "n"}
    again = evaluate(_records(), EvalPlan(strata=("sex",)), source="hand-written")
    assert again.to_json(timings=False) == evaluation.to_json(timings=False)
    assert Evaluation.model_validate_json(evaluation.to_json()) == evaluation


def test_plan_checks_pass_warn_fail_and_error() -> None:
    plan = EvalPlan(checks=[
        {"metric": "rougeL", "condition": "value >= 0.1", "warning": "value >= 0.99"},
        {"metric": "bleu", "condition": "ci_low >= 0.99"},
        {"metric": "semantic_similarity", "condition": "value >= 0.5"},
        {"flag": "negation_conflict", "max_count": 0},
        {"flag": "phi_leak", "max_count": 0, "condition": "ci_high <= 0.9"},
    ])
    evaluation = evaluate(_records(), plan)
    status = {r.id: r.status for r in evaluation.results}
    assert status == {"rougeL": "warn", "bleu": "fail", "semantic_similarity": "error",
                      "flag:negation_conflict": "fail", "flag:phi_leak": "pass"}
    assert evaluation.status == "fail" and not evaluation.passed
    negation = next(r for r in evaluation.results if r.id == "flag:negation_conflict")
    assert negation.count == 1 and negation.reason == "1 flagged, at most 0 allowed"
    suite = ET.fromstring(evaluation.to_junit())
    failures = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failures == ["bleu", "flag:negation_conflict"]


def test_the_report_highlights_flags_and_never_repeats_an_identifier() -> None:
    records = records_from([{
        "id": "p1", "task": "summarization", "source": "Seen by Dr. Smith. Denies fever.",
        "output": "Patient Jonathan Whitfield, MRN 48213377, reports fever."}])
    evaluation = evaluate(records)
    types = {f.type for f in evaluation.item("p1").flags}
    assert {"phi_leak", "negation_conflict"} <= types
    html = evaluation.to_html(records=records)
    assert "48213377" not in html and "Whitfield" not in html
    assert '<mark class="flag-phi_leak' in html and "[identifier]" in html
    assert '<mark class="flag-negation_conflict' in html and ">fever</mark>" in html
    assert "48213377" in evaluation.to_json()  # the JSON keeps the spans, as the issue asks


def test_a_plan_reads_from_yaml_with_files_beside_it(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps(
        {"type": "object", "required": ["medications"]}), encoding="utf-8")
    (tmp_path / "formulary.txt").write_text("# local names\nzorbitol\n", encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(
        "name: local\njson_schema: schema.json\nlexicon: formulary.txt\n"
        "checks:\n  - {flag: unsupported_medication, max_count: 0}\n", encoding="utf-8")
    plan = EvalPlan.load(tmp_path / "plan.yaml")
    assert plan.json_schema == {"type": "object", "required": ["medications"]}
    records = records_from([
        {"id": "x", "task": "summarization", "source": "Started apixaban.",
         "output": "Started apixaban and zorbitol."},
        {"id": "y", "task": "extraction", "source": "Started apixaban.", "output": "{}"}])
    evaluation = evaluate(records, plan)
    assert [f.span.text for f in evaluation.item("x").flags if f.span] == ["zorbitol"]
    assert [f.type for f in evaluation.item("y").flags] == ["schema_violation"]


def test_bad_plans_and_inputs_are_named(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("name: x\nchecks:\n  - {flag: phi_leak}\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"plan.yaml line 3.*max_count"):
        EvalPlan.load(path)
    path.write_text("name: x\nchecks:\n  - {metric: bleu, condition: value >= 1}\n"
                    "  - {metric: bleu, condition: value >= 0}\n", encoding="utf-8")
    with pytest.raises(PlanError, match="check ids repeat: bleu"):
        EvalPlan.load(path)
    with pytest.raises(InputError, match="no records"):
        evaluate([])


def test_worker_processes_give_the_same_evaluation_as_one() -> None:
    from assay.datasets import make_summary_records

    records = make_summary_records(520, seed=3)
    one = evaluate(records, EvalPlan(settings={"workers": 1}))
    two = evaluate(records, EvalPlan(settings={"workers": 2}))
    assert one.items == two.items and one.summary == two.summary
    assert [i.id for i in two.items] == [r.id for r in records]
