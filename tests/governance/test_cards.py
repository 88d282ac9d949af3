"""Model cards: every HTI-1 attribute present, validity and fairness from Runs, exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.governance._cards import ModelCard, build_model_card
from assay.governance._fields import CARD_FIELDS, HTI1_FIELDS

PLAN = """
name: card-local-validation
version: "2"
roles: {target: outcome, score: risk}
thresholds: {high_risk: 0.4}
groups: [sex]
group_metrics: [auroc, sensitivity]
settings: {n_boot: 200, seed: 3}
checks:
  - metric: auroc
    condition: ci_low >= 0.6
  - fairness: equal_opportunity
    by: sex
    threshold: high_risk
"""

FAILING_PLAN = """
name: card-failing
roles: {target: outcome, score: risk}
settings: {n_boot: 100, seed: 3}
checks:
  - metric: auroc
    condition: ci_low >= 0.99
"""

PRODUCT = {"name": "sepsis-risk", "kind": "predictive", "clinical_risk_tier": "high",
           "intended_use": "Estimate the risk of sepsis within 12 hours.",
           "intended_population": "Adult inpatients on medical wards.",
           "intended_users": "Rapid response nurses", "decision_role": "informs",
           "vendor_name": "Hospital data science team", "developer_contact": "ds@example.org",
           "known_risks": "Not evaluated in ICU patients."}
VERSION = {"version": "1.0", "artifact_uri": "models:/sepsis/3",
           "training_data_description": "Admissions 2019-2022 at two hospitals."}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 1000
    signal = rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(-1.0 + 1.5 * signal)))
    return pd.DataFrame({"outcome": (rng.random(n) < risk).astype(int), "risk": risk,
                         "sex": rng.choice(["F", "M"], n)})


@pytest.fixture(scope="module")
def run(frame: pd.DataFrame) -> Run:
    run = validate(Plan.from_yaml(PLAN), frame)
    assert run.passed
    return run


@pytest.fixture(scope="module")
def failing(frame: pd.DataFrame) -> Run:
    run = validate(Plan.from_yaml(FAILING_PLAN), frame)
    assert not run.passed
    return run


@pytest.fixture(scope="module")
def card(run: Run) -> ModelCard:
    return build_model_card(PRODUCT, VERSION, {"run-1": run})


def test_the_catalogue_has_the_31_hti1_attributes_in_order_with_unique_ids() -> None:
    assert [f.hti1_number for f in HTI1_FIELDS] == list(range(1, 32))
    ids = [f.id for f in CARD_FIELDS]
    assert len(ids) == len(set(ids)) and set(HTI1_FIELDS) <= set(CARD_FIELDS)
    assert all(re.fullmatch(r"(hti1|chai)\.[a-z_]+\.[a-z_]+", i) for i in ids)
    run_fields = {f.id for f in HTI1_FIELDS if f.source_kind == "run"}
    assert {"hti1.performance.internal_validity", "hti1.performance.external_fairness",
            "hti1.maintenance.local_validity", "hti1.maintenance.local_fairness"} <= run_fields


def test_json_holds_every_hti1_id_with_a_value_or_a_missing_reason(card: ModelCard) -> None:
    data = json.loads(card.to_json())
    fields = {f["id"]: f for s in data["sections"] for f in s["fields"]}
    for spec in HTI1_FIELDS:
        item = fields[spec.id]
        if item["status"] == "filled":
            assert item["value"] and item["missing_reason"] is None
        else:
            assert item["status"] == "missing" and item["value"] is None
            assert item["missing_reason"]


def test_registry_fields_fill_their_attributes(card: ModelCard) -> None:
    developer = card.field("hti1.details.developer_name_contact")
    assert developer.value == "Hospital data science team; ds@example.org"
    assert developer.source == "registry:vendor_name+developer_contact"
    risks = card.field("hti1.out_of_scope.known_risks_limitations")
    assert (risks.value, risks.source) == ("Not evaluated in ICU patients.",
                                           "registry:known_risks")
    funding = card.field("hti1.details.funding_source")
    assert funding.status == "missing"
    assert funding.missing_reason == ("not recorded in the registry (product or version field "
                                      "'funding_source')")
    half = build_model_card({"name": "x", "vendor_name": "Acme"}, {"version": "1"}, [])
    assert half.field("hti1.details.developer_name_contact").status == "missing"
    empty = build_model_card({"name": "x", "funding_source": "  "}, {"version": "1"}, [])
    assert (empty.field("hti1.details.funding_source").missing_reason
            == "registry field 'funding_source' is empty")


def test_local_validity_comes_from_the_run_with_intervals(card: ModelCard, run: Run) -> None:
    field = card.field("hti1.maintenance.local_validity")
    assert (field.status, field.source) == ("filled", "run:run-1")
    auroc = run.metric("auroc")
    assert field.details is not None
    first = field.details["metrics"][0]
    assert (first["metric"], first["value"], first["ci_low"], first["ci_high"]) == (
        "auroc", auroc.value, auroc.ci_low, auroc.ci_high)
    assert f"AUROC: {auroc.value:.3f} (95% CI {auroc.ci_low:.3f}–{auroc.ci_high:.3f})" in (
        field.value or "")


def test_local_fairness_comes_from_the_fairness_check(card: ModelCard, run: Run) -> None:
    field = card.field("hti1.maintenance.local_fairness")
    result = next(r for r in run.results if r.kind == "fairness")
    assert result.fairness is not None
    assert field.status == "filled" and field.details is not None
    (check,) = field.details["fairness_checks"]
    assert (check["check"], check["status"], check["band_status"]) == (
        result.id, result.status, result.fairness.status)
    rows = check["tables"][0]["rows"]
    assert [r["band_status"] for r in rows] == [
        r.band_status for r in result.fairness.tables[0].rows]


def test_group_metrics_stand_in_when_no_fairness_check_was_run(frame: pd.DataFrame) -> None:
    plan = Plan.from_yaml(PLAN.split("  - fairness")[0])
    card = build_model_card(PRODUCT, VERSION, [validate(plan, frame)])
    field = card.field("hti1.maintenance.local_fairness")
    assert field.status == "filled" and field.details is not None
    assert field.value is not None and field.value.startswith("No fairness criterion was judged")
    assert {g["group_value"] for g in field.details["group_metrics"]} == {"F", "M"}


def test_internal_and_external_need_a_marked_run(card: ModelCard, run: Run) -> None:
    internal = card.field("hti1.performance.internal_validity")
    assert internal.status == "missing" and internal.source == "run:none"
    assert "internal_validation_data" in (internal.missing_reason or "")
    marked = build_model_card(PRODUCT, {**VERSION, "external_validation_data":
                                        run.data.fingerprint}, [run])
    assert marked.field("hti1.performance.external_validity").status == "filled"
    assert marked.field("hti1.external_validation.demographic_representativeness").status == (
        "filled")
    assert marked.field("hti1.maintenance.local_validity").status == "missing"


def test_only_a_passing_run_fills_local_validity(failing: Run, run: Run) -> None:
    card = build_model_card(PRODUCT, VERSION, {"bad": failing})
    field = card.field("hti1.maintenance.local_validity")
    assert field.status == "missing"
    assert field.missing_reason == ("none of the 1 stored Runs passed; the newest, run:bad, "
                                    "has 1 failed or unevaluable check")
    both = build_model_card(PRODUCT, VERSION, {"bad": failing, "good": run})
    assert both.field("hti1.maintenance.local_validity").source == "run:good"


def test_completeness_and_missing_list_are_exact(card: ModelCard) -> None:
    filled = {"hti1.details.developer_name_contact", "hti1.purpose.intended_use",
              "hti1.purpose.intended_population", "hti1.purpose.intended_users",
              "hti1.purpose.decision_role", "hti1.out_of_scope.known_risks_limitations",
              "hti1.maintenance.local_validity", "hti1.maintenance.local_fairness",
              "chai.basic.model_name", "chai.release.version",
              "chai.warnings.clinical_risk_level", "chai.facts.development_data"}
    required = [f.id for f in CARD_FIELDS if f.required]
    assert card.n_required == len(required) == 44
    assert card.n_filled == len(filled) == 12
    assert card.completeness == pytest.approx(12 / 44)
    assert card.missing == tuple(i for i in required if i not in filled)
    # optional fields filled do not count; artifact_uri is optional
    assert card.field("chai.facts.artifact").status == "filled"


def test_hti1_table(card: ModelCard) -> None:
    table = card.hti1_table()
    assert list(table.columns[:2]) == ["id", "number"]
    assert {"title", "value", "status"} <= set(table.columns)
    assert list(table["id"]) == [f.id for f in HTI1_FIELDS]
    assert (table["status"] == "filled").sum() == 8


def test_html_is_self_contained_and_says_what_is_missing(card: ModelCard) -> None:
    html = card.to_html()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    assert "@import" not in html and "url(" not in html
    for spec in HTI1_FIELDS:
        assert f'id="{spec.id}"' in html
    assert "12 of 44 required fields are filled (27%)" in html
    assert "Missing: not recorded in the registry" in html
    lowered = html.lower()
    assert "clinically validated" not in lowered and "unbiased" not in lowered


def test_an_empty_card_makes_no_performance_claim() -> None:
    html = build_model_card({"name": "x"}, {"version": "1"}, []).to_html()
    assert "makes no statement about how the model performs" in html
    assert "AUROC" not in html


def test_pdf_renders(card: ModelCard, tmp_path: Path) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    path = card.to_pdf(tmp_path / "card.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    pages = weasyprint.HTML(string=card.to_html()).render().pages
    assert len(pages) >= 3
    assert "Validity in local data" in card.to_html()
