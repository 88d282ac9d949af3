"""Gates: refused with exactly what is missing, passed with evidence and sign-offs, audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.errors import InputError
from assay.governance import (
    GATES,
    STATES,
    TRANSITIONS,
    Contingency,
    GateError,
    Registry,
    gate,
)
from assay.store import Store
from tests.governance._walk import PRODUCT_FIELDS, satisfy, walk


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    store = Store.open(database_url, check_schema=False)
    store.upgrade()
    registry = Registry(store)
    registry.register_product("sepsis-alert", actor="ana", **PRODUCT_FIELDS)
    registry.add_version("sepsis-alert", "1.0", actor="ana")
    yield registry
    store.close()


def test_the_lifecycle_data_is_consistent() -> None:
    ids = [g.id for g in GATES]
    assert len(ids) == len(set(ids)) and ids[:8] == [f"G{i}" for i in range(8)]
    for move in TRANSITIONS:
        assert move.from_state in STATES and move.to_state in STATES
        assert gate(move.gate).id == move.gate
    assert {g.id for g in GATES} == {t.gate for t in TRANSITIONS}


def test_missing_evidence_is_refused_listing_exactly_what_is_missing(
        registry: Registry) -> None:
    registry.set_fields("sepsis-alert", actor="ana", decision_role="", source="")
    with pytest.raises(GateError) as refused:
        registry.transition("sepsis-alert", "1.0", "registered", actor="chair")
    assert refused.value.missing == ["product field 'decision_role'", "product field 'source'",
                                     "sign-off by role 'governance_office'"]
    assert "proposed → registered refused at gate G0" in str(refused.value)
    assert isinstance(refused.value, InputError)
    assert registry.state("sepsis-alert", "1.0") == "proposed"
    assert registry.store.verify_audit().ok
    registry.store.close()


def test_no_passing_run_is_missing_evidence(registry: Registry, small_run: Run,
                                            passing_run: Run) -> None:
    registry.set_fields("sepsis-alert", actor="ana", clinical_risk_tier="low")
    walk(registry, "sepsis-alert", "1.0", "built_or_procured", passing_run)
    registry.set_fields("sepsis-alert", actor="ana", bias_mitigation="reweighting",
                        risk_register="register v1")
    version_id = registry.version_id("sepsis-alert", "1.0")
    registry.store.save_run(small_run, version_id=version_id)  # one check fails
    for role in ("clinical_owner", "technical_owner"):
        registry.sign("sepsis-alert", "1.0", "G4", role=role, actor="dr-ana" if role ==
                      "clinical_owner" else "dev-bo", statement="local validation reviewed")
    with pytest.raises(GateError) as refused:
        registry.transition("sepsis-alert", "1.0", "locally_validated", actor="chair")
    assert refused.value.missing == ["a passing validation Run of this version stored"]
    registry.store.save_run(passing_run, version_id=version_id)
    decided = registry.transition("sepsis-alert", "1.0", "locally_validated", actor="chair")
    assert (decided.gate, decided.from_state, decided.to_state) == (
        "G4", "built_or_procured", "locally_validated")
    registry.store.close()


def test_a_registered_plan_decides_which_passing_run_counts(
        registry: Registry, passing_run: Run, validation_frame: pd.DataFrame) -> None:
    registry.set_fields("sepsis-alert", actor="ana", clinical_risk_tier="low")
    walk(registry, "sepsis-alert", "1.0", "built_or_procured", passing_run)
    registered = Plan.from_yaml(passing_run.plan.to_yaml().replace("0.6", "0.55"))
    changed = registry.set_plan("sepsis-alert", "1.0", registered, actor="val-sam")
    assert changed["validation_plan_fingerprint"] == (None, registered.fingerprint)
    registry.set_fields("sepsis-alert", actor="ana", bias_mitigation="reweighting",
                        risk_register="register v1")
    for role, person in (("clinical_owner", "dr-ana"), ("technical_owner", "dev-bo")):
        registry.sign("sepsis-alert", "1.0", "G4", role=role, actor=person,
                      statement="local validation reviewed")
    version_id = registry.version_id("sepsis-alert", "1.0")
    registry.store.save_run(passing_run, version_id=version_id)  # passes, but another plan
    with pytest.raises(GateError) as refused:
        registry.transition("sepsis-alert", "1.0", "locally_validated", actor="chair")
    assert refused.value.missing == [
        "a passing validation Run of this version stored of the registered plan "
        f"{registered.fingerprint[:19]}…"]
    run_of_plan = validate(registered, validation_frame)
    assert run_of_plan.passed and run_of_plan.plan_fingerprint == registered.fingerprint
    registry.store.save_run(run_of_plan, version_id=version_id)
    decided = registry.transition("sepsis-alert", "1.0", "locally_validated", actor="chair")
    assert decided.to_state == "locally_validated"
    events = [e.action for e in registry.store.audit_events()]
    assert "version.field_changed" in events
    registry.store.close()


def test_a_full_walk_passes_every_gate_and_leaves_audit_events(
        registry: Registry, passing_run: Run) -> None:
    gates = walk(registry, "sepsis-alert", "1.0", "deployed", passing_run)
    assert gates == [f"G{i}" for i in range(8)]
    assert registry.state("sepsis-alert", "1.0") == "deployed"
    events = registry.store.audit_events()
    moves = [(e.payload["old"], e.payload["new"]) for e in events
             if e.action == "version.state_changed"]
    assert moves[0] == ("proposed", "registered") and moves[-1] == ("pilot", "deployed")
    assert len(moves) == 8
    assert sum(e.action == "signoff.recorded" for e in events) == sum(
        len(gate(g).roles_for("high")) for g in gates)
    assert [d.decision for d in registry.decisions("sepsis-alert", "1.0")] == ["approve"] * 8
    assert registry.store.verify_audit().ok
    registry.store.close()


@pytest.mark.parametrize(("tier", "gates"), [
    ("low", ["G0", "G1", "G2", "G3", "G4", "G7"]),
    ("medium", ["G0", "G1", "G2", "G3", "G4", "G5", "G7"]),
    ("high", ["G0", "G1", "G2", "G3", "G4", "G5", "G6", "G7"]),
])
def test_the_risk_tier_decides_which_gates_apply(tier: str, gates: list[str], tmp_path: Path,
                                                 passing_run: Run) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'assay.db'}")
    registry = Registry(store)
    registry.register_product("p", actor="ana", **PRODUCT_FIELDS, clinical_risk_tier=tier)
    registry.add_version("p", "1", actor="ana")
    assert walk(registry, "p", "1", "deployed", passing_run) == gates
    store.close()


def test_the_tier_changes_what_a_gate_asks(registry: Registry, passing_run: Run) -> None:
    registry.set_fields("sepsis-alert", actor="ana", clinical_risk_tier="low")
    walk(registry, "sepsis-alert", "1.0", "locally_validated", passing_run)
    with pytest.raises(InputError, match="allowed: decommissioned, deployed"):
        registry.transition("sepsis-alert", "1.0", "silent_evaluation", actor="chair")
    registry.set_fields("sepsis-alert", actor="ana", clinical_risk_tier="high")
    _, missing = registry.missing("sepsis-alert", "1.0", "silent_evaluation")
    assert "sign-off by role 'validator'" in missing
    registry.store.close()


def test_the_validator_must_be_independent_of_the_developer(
        registry: Registry, passing_run: Run) -> None:
    walk(registry, "sepsis-alert", "1.0", "built_or_procured", passing_run)
    with pytest.raises(InputError, match="dev-bo cannot sign gate G4 as validator: they are "
                                         "the product's technical_owner"):
        registry.sign("sepsis-alert", "1.0", "G4", role="validator", actor="dev-bo",
                      statement="validated")
    registry.sign("sepsis-alert", "1.0", "G4", role="clinical_owner", actor="dr-ana",
                  statement="reviewed")
    with pytest.raises(InputError, match="one person, one role"):
        registry.sign("sepsis-alert", "1.0", "G4", role="validator", actor="dr-ana",
                      statement="validated")
    with pytest.raises(InputError, match="gate G6 does not lead out of state"):
        registry.sign("sepsis-alert", "1.0", "G6", role="clinical_owner", actor="dr-ana",
                      statement="x")
    with pytest.raises(InputError, match="unknown role 'boss'"):
        registry.sign("sepsis-alert", "1.0", "G4", role="boss", actor="x", statement="x")
    assert [s.role for s in registry.sign_offs("sepsis-alert", "1.0", "G4")] == [
        "clinical_owner"]
    assert registry.store.verify_audit().ok
    registry.store.close()


def test_contingencies_are_stored_and_tracked(registry: Registry, passing_run: Run) -> None:
    satisfy(registry, "sepsis-alert", "1.0", "G0", passing_run)
    decided = registry.transition(
        "sepsis-alert", "1.0", "registered", actor="chair",
        contingencies=[Contingency("add the vendor contract", "dr-ana", date(2026, 1, 31)),
                       Contingency("name a privacy contact", "bo", date(2027, 6, 30))])
    assert decided.decision == "approve_with_contingencies"
    open_items = registry.open_contingencies(today=date(2026, 3, 1))
    assert [(c.description, c.gate, c.overdue) for c in open_items] == [
        ("add the vendor contract", "G0", True), ("name a privacy contact", "G0", False)]
    registry.resolve_contingency(open_items[0].id, actor="dr-ana")
    assert [c.description for c in registry.open_contingencies("sepsis-alert")] == [
        "name a privacy contact"]
    with pytest.raises(InputError, match="is not open"):
        registry.resolve_contingency(open_items[0].id, actor="dr-ana")
    assert registry.store.verify_audit().ok
    registry.store.close()


def test_re_review_keeps_the_state_and_decline_ends_it(registry: Registry) -> None:
    kept = registry.decide("sepsis-alert", "1.0", "G0", "re_review", actor="chair",
                           note="intended users unclear")
    assert kept.to_state == "proposed" == registry.state("sepsis-alert", "1.0")
    with pytest.raises(GateError):
        registry.decide("sepsis-alert", "1.0", "G0", "approve", actor="chair")
    declined = registry.decide("sepsis-alert", "1.0", "G0", "decline", actor="chair")
    assert declined.to_state == "declined" == registry.state("sepsis-alert", "1.0")
    assert [d.decision for d in registry.decisions("sepsis-alert", "1.0")] == [
        "re_review", "decline"]
    with pytest.raises(InputError, match="unknown decision"):
        registry.decide("sepsis-alert", "1.0", "G0", "maybe", actor="chair")
    registry.store.close()


def test_a_model_card_hook_decides_card_completeness(tmp_path: Path,
                                                     passing_run: Run) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'assay.db'}")
    registry = Registry(store, model_card_check=lambda *_: ["HTI-1 attribute 4.3"])
    registry.register_product("p", actor="ana", **PRODUCT_FIELDS, clinical_risk_tier="low")
    registry.add_version("p", "1", actor="ana")
    walk(registry, "p", "1", "locally_validated", passing_run)
    satisfy(registry, "p", "1", "G7", passing_run)
    with pytest.raises(GateError) as refused:
        registry.transition("p", "1", "deployed", actor="chair")
    assert refused.value.missing == ["a complete model card (HTI-1 attribute 4.3)"]
    store.close()


def test_an_overdue_contingency_sends_a_deployed_version_to_review(
        tmp_path: Path, passing_run: Run) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'assay.db'}")
    registry = Registry(store)
    registry.register_product("p", actor="ana", **PRODUCT_FIELDS, clinical_risk_tier="low")
    registry.add_version("p", "1", actor="ana")
    walk(registry, "p", "1", "locally_validated", passing_run)
    satisfy(registry, "p", "1", "G7", passing_run)
    registry.transition("p", "1", "deployed", actor="chair", contingencies=[
        Contingency("user training records", "dr-ana", date(2026, 1, 31))])
    assert registry.review_overdue(actor="assay", today=date(2026, 1, 31)) == []
    moved = registry.review_overdue(actor="assay", today=date(2026, 2, 1))
    assert [(d.gate, d.decision, d.to_state) for d in moved] == [
        ("review", "re_review", "under_review")]
    assert registry.state("p", "1") == "under_review" and store.verify_audit().ok
    store.close()


def test_the_strict_card_check_asks_for_every_required_card_field(
        registry: Registry, passing_run: Run) -> None:
    from assay.governance import GATES, card_completeness_check

    evidence = next(item for g in GATES for item in g.evidence if item.kind ==
                    "model_card_complete")
    before = card_completeness_check(registry, "sepsis-alert", "1.0", evidence)
    card = registry.model_card("sepsis-alert", "1.0")
    assert len(before) == len(card.missing) > 0
    assert "model card field 'Validity in local data'" in before
    registry.store.save_run(passing_run, version_id=registry.version_id("sepsis-alert", "1.0"))
    after = card_completeness_check(registry, "sepsis-alert", "1.0", evidence)
    assert "model card field 'Validity in local data'" not in after
    assert len(after) == len(before) - 1
    strict = Registry(registry.store, model_card_check=card_completeness_check)
    assert strict.model_card_check is card_completeness_check
    registry.store.close()
