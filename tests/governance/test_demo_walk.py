"""The demo's governance walk: gates G0–G3 pass with sign-offs; G4 needs a passing Run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from assay._demo_governance import PRODUCT, VERSION, walk_governance
from assay.checks import Plan, Run, validate
from assay.governance import Registry
from assay.store import Store


def test_a_passing_run_opens_gate_g4(tmp_path: Path, passing_run: Run) -> None:
    outcome = walk_governance(tmp_path, passing_run, "models:/readmission/1")
    assert "Gate G4 (local validation) passed." in outcome.story
    store = Store.open(f"sqlite:///{tmp_path}/assay.db")
    try:
        assert Registry(store).state(PRODUCT, VERSION) == "locally_validated"
        assert store.verify_audit().ok
    finally:
        store.close()
    card = json.loads(outcome.files["card_json"].read_text())
    assert sum(1 for f in _fields(card) if f["id"].startswith("hti1.")) == 31


def test_a_failing_run_is_refused_at_g4_with_what_is_missing(
        tmp_path: Path, passing_run: Run, validation_frame: pd.DataFrame) -> None:
    strict = Plan.from_yaml(passing_run.plan.to_yaml().replace("ci_low >= 0.6", "ci_low >= 0.99"))
    failing = validate(strict, validation_frame)
    assert not failing.passed
    outcome = walk_governance(tmp_path, failing, "models:/readmission/1")
    assert ("Gate G4 (local validation) refused, missing: a passing validation Run of this "
            f"version stored of the registered plan {strict.fingerprint[:19]}….") in outcome.story
    store = Store.open(f"sqlite:///{tmp_path}/assay.db")
    try:
        assert Registry(store).state(PRODUCT, VERSION) == "built_or_procured"
    finally:
        store.close()
    assert outcome.files["card"].read_text().startswith("<!DOCTYPE html>")


def _fields(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [field for section in card["sections"] for field in section["fields"]]
