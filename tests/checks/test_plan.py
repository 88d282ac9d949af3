from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay._demo import example_plan_path
from assay.checks import Plan, ThresholdRule
from assay.checks._specs import CHECK_CLASSES, CHECK_TAGS
from assay.errors import PlanError

DOCS = Path(__file__).parents[2] / "docs"


def plan_error(text: str) -> str:
    with pytest.raises(PlanError) as caught:
        Plan.from_yaml(text, source="plan.yaml")
    return str(caught.value)


def test_example_plan_loads_with_every_kind_of_check() -> None:
    plan = Plan.load(example_plan_path())
    assert plan.roles is not None and plan.roles.target == "readmit_30d"
    kinds = {type(c) for c in plan.checks}
    assert kinds == set(CHECK_CLASSES)
    assert plan.thresholds["referral"] == 0.2


def test_fingerprint_is_stable_and_content_based() -> None:
    plan = Plan.load(example_plan_path())
    again = Plan.from_yaml(plan.to_yaml())
    assert again == plan and again.fingerprint == plan.fingerprint
    changed = Plan.from_yaml(plan.to_yaml().replace("0.7", "0.71"))
    assert changed.fingerprint != plan.fingerprint


def test_unknown_field_names_line_and_path() -> None:
    message = plan_error("name: p\nchecks:\n  - metric: auroc\n    conditon: value > 0.7\n")
    assert "plan.yaml line 4, checks[0].conditon: unknown field 'conditon'" in message
    assert "line 3, checks[0]: required field 'condition' is missing" in message


def test_unknown_metric_lists_the_registry() -> None:
    message = plan_error("name: p\nchecks:\n  - metric: aurocc\n    condition: value > 0.7\n")
    assert "line 3, checks[0].metric: unknown metric 'aurocc'" in message
    assert "auroc" in message.split("known metrics:")[1]


def test_bad_condition_names_the_line() -> None:
    message = plan_error("name: p\nchecks:\n  - metric: auroc\n    condition: ci_lo > 0.7\n")
    assert "line 4, checks[0].condition" in message and "unknown field 'ci_lo'" in message


def test_undefined_threshold_name() -> None:
    message = plan_error(
        "name: p\nthresholds: {referral: 0.2}\nchecks:\n"
        "  - metric: sensitivity\n    threshold: refferal\n    condition: value > 0.7\n")
    assert "threshold 'refferal'" in message and "referral" in message


def test_threshold_metric_needs_a_threshold() -> None:
    message = plan_error("name: p\nchecks:\n  - metric: sensitivity\n    condition: value > 0.7\n")
    assert "add 'threshold:'" in message


def test_duplicate_key_is_refused() -> None:
    message = plan_error("name: p\nname: q\nchecks: []\n")
    assert "line 2: key 'name' repeats the key on line 1" in message


def test_bad_values_and_kinds() -> None:
    message = plan_error("name: p\nsettings: {level: 1.5}\nchecks:\n  - metrc: auroc\n")
    assert "line 2, settings.level" in message
    assert "line 4, checks[0]" in message and "one of 'metric:', 'compare:', 'fairness:'" in message


def test_comparison_rules() -> None:
    message = plan_error(
        "name: p\nchecks:\n  - compare: calibration_slope\n    challenger: a\n    baseline: b\n")
    assert "no better direction" in message
    message = plan_error("name: p\nchecks:\n  - compare: auroc\n    challenger: a\n"
                         "    baseline: b\n    test: equivalence\n")
    assert "needs a margin" in message


def test_threshold_rule_validation() -> None:
    assert ThresholdRule(rule="youden").target is None
    with pytest.raises(ValueError, match="need one"):
        ThresholdRule(rule="sensitivity")


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not valid YAML" in plan_error("name: [unclosed\n")
    assert "a plan is a YAML mapping" in plan_error("- just a list\n")


def test_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        Plan.load(tmp_path / "missing.yaml")


def test_exported_json_schema_is_current() -> None:
    shipped = json.loads((DOCS / "plan.schema.json").read_text())
    regenerate = "regenerate with: assay schema plan > docs/plan.schema.json"
    assert shipped == Plan.json_schema(), regenerate
    check_kinds = shipped["properties"]["checks"]["items"]["oneOf"]
    assert len(check_kinds) == len(CHECK_TAGS)
