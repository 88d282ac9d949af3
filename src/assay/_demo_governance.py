"""The demo's governance part: register the readmission model, walk it through the lifecycle
gates with sign-offs, store its validation Run, try the local-validation gate, and write the
model card. Everything lands in the demo's own store (``<out>/assay.db``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assay.checks import Run

if TYPE_CHECKING:
    from assay.governance import Registry

PRODUCT = "readmission-30d"
VERSION = "1.0"
PRODUCT_FIELDS = {
    "kind": "predictive",
    "intended_use": "Estimate each adult inpatient's risk of readmission within 30 days of "
                    "discharge, to refer patients at or above 20% to the transitional-care team.",
    "intended_users": "Transitional-care nurses and discharge planners",
    "intended_population": "Adult inpatients discharged alive from medical and surgical wards",
    "decision_role": "informs: a nurse reviews every referral; no care is withheld on the score",
    "source": "internal",
    "developer": "Hospital data science team",
    "developer_contact": "data-science@hospital.example",
    "clinical_owner": "dr-adeyemi",
    "technical_owner": "lin-data-science",
    "clinical_risk_tier": "medium",
    "risk_tier_rationale": "Informs a referral that adds care; a missed referral delays, not "
                           "denies, follow-up.",
    "fda_device_determination": "Not a device: transparent basis, reviewed by a clinician",
    "privacy_screen": "Uses EHR data already in the care record; no new disclosure",
    "problem_statement": "Readmissions within 30 days run at 15%; the team can see about a "
                         "third of discharges.",
    "alternatives_considered": "Charlson index threshold (current practice); no model",
    "expected_benefit": "More readmissions reached by the same team capacity",
    "acceptance_criteria": "The plan readmission-30d-local-validation passes in full",
    "monitoring_plan": "Monthly AUROC, calibration and referral rate by sex and race",
    "ethics_assessment": "Reviewed: equal opportunity by race and calibration within groups "
                         "are plan checks",
    "out_of_scope_uses": "Paediatric patients; obstetric admissions; denying or rationing care",
    "known_risks": "Lab feeds in the wrong unit shift risks; short stays are ranked less well",
}
VERSION_FIELDS = {
    "training_data_description": "Synthetic discharges of the first six months (demo data)",
    "change_notes": "First version",
}
ROLES = {  # gate → (role, person) pairs of the medium tier
    "G0": [("governance_office", "office-wong")],
    "G1": [("implementation_subcommittee", "dr-patel"), ("privacy_officer", "privacy-kim")],
    "G2": [("clinical_owner", "dr-adeyemi"), ("executive_sponsor", "cmo-garcia"),
           ("ethics_reviewer", "ethics-osei")],
    "G3": [("technical_owner", "lin-data-science"), ("it_security", "sec-novak")],
    "G4": [("clinical_owner", "dr-adeyemi"), ("validator", "val-schmidt"),
           ("equity_reviewer", "equity-rao")],
}
PATH = [("G0", "registered"), ("G1", "scoped"), ("G2", "design_approved"),
        ("G3", "built_or_procured")]


@dataclass(frozen=True)
class GovernanceOutcome:
    """What the governance walk produced: files and the story lines to print."""

    files: dict[str, Path]
    story: list[str]


def walk_governance(out: Path, run: Run, model_uri: str) -> GovernanceOutcome:
    """Register the product and its validation plan, pass G0–G3, store the Run, try G4,
    write the model card."""
    from assay.governance import GateError, Registry
    from assay.store import Store

    database = out / "assay.db"
    database.unlink(missing_ok=True)  # the demo's own store, made afresh each time
    store = Store.open(f"sqlite:///{database}")
    try:
        registry = Registry(store)
        registry.register_product(PRODUCT, actor="dr-adeyemi", **PRODUCT_FIELDS)
        registry.add_version(PRODUCT, VERSION, actor="lin-data-science",
                             artifact_uri=model_uri, **VERSION_FIELDS)
        registry.set_plan(PRODUCT, VERSION, run.plan, actor="val-schmidt")
        for gate_id, state in PATH:
            _sign(registry, gate_id)
            registry.transition(PRODUCT, VERSION, state, actor="chair-okafor")
        store.save_run(run, version_id=registry.version_id(PRODUCT, VERSION), actor="val-schmidt")
        registry.set_fields(PRODUCT, actor="equity-rao",
                            bias_mitigation="Fairness checks by race and sex in the plan",
                            risk_register="Unit errors in lab feeds; spectrum of short stays")
        _sign(registry, "G4")
        story = [f"Registered '{PRODUCT}' {VERSION} and passed gates G0–G3 with sign-offs "
                 f"(now {registry.state(PRODUCT, VERSION).replace('_', ' ')})."]
        try:
            registry.transition(PRODUCT, VERSION, "locally_validated", actor="chair-okafor")
            story.append("Gate G4 (local validation) passed.")
        except GateError as refused:
            story.append("Gate G4 (local validation) refused, missing: "
                         + "; ".join(refused.missing) + ".")
        card = registry.model_card(PRODUCT, VERSION)
        files = {"card": out / "model-card.html", "card_json": out / "model-card.json",
                 "store": database}
        files["card"].write_text(card.to_html(), encoding="utf-8")
        files["card_json"].write_text(card.to_json(), encoding="utf-8")
        verification = store.verify_audit()
        story.append(f"Model card {card.n_filled} of {card.n_required} required fields filled "
                     f"({card.completeness:.0%}); audit trail of {verification.n_events} "
                     f"events {'intact' if verification.ok else 'BROKEN'}.")
        return GovernanceOutcome(files=files, story=story)
    finally:
        store.close()


def _sign(registry: Registry, gate_id: str) -> None:
    for role, person in ROLES[gate_id]:
        registry.sign(PRODUCT, VERSION, gate_id, role=role, actor=person,
                      statement=f"{person} signs {gate_id} as {role}")
