"""Helpers: satisfy a gate's evidence and sign-offs, and walk a version along its path."""

from __future__ import annotations

from assay.checks import Run
from assay.governance import PRODUCT_FIELD_CHOICES, Registry, gate, transitions_from

PRODUCT_FIELDS = {"kind": "predictive", "intended_use": "flag sepsis risk on the ward",
                  "intended_users": "ward nurses", "intended_population": "adult inpatients",
                  "decision_role": "informs", "source": "internal",
                  "clinical_owner": "dr-ana", "technical_owner": "dev-bo"}


def satisfy(registry: Registry, product: str, version: str, gate_id: str, run: Run) -> None:
    """Give gate ``gate_id`` every evidence item and sign-off it asks of the product's tier."""
    tier = registry.risk_tier(product)
    checked = gate(gate_id)
    for item in checked.evidence_for(tier):
        if item.kind == "product_field":
            if item.name not in registry.product_fields(product):
                value = PRODUCT_FIELD_CHOICES.get(item.name, (f"{item.name} text",))[-1]
                registry.set_fields(product, actor="ana", **{item.name: value})
        elif item.kind == "version_field":
            if item.name not in registry.version_fields(product, version):
                registry.set_fields(product, version, actor="ana",
                                    **{item.name: f"{item.name} text"})
        elif item.kind == "model_card_complete":
            registry.set_fields(product, actor="ana",
                                **{name: f"{name} text" for name in item.fields
                                   if name not in registry.product_fields(product)})
        else:
            registry.store.save_run(run, version_id=registry.version_id(product, version))
    for role in checked.roles_for(tier):
        registry.sign(product, version, gate_id, role=role, actor=f"{role}-person",
                      statement=f"{role} attests {gate_id}")


def walk(registry: Registry, product: str, version: str, to_state: str, run: Run) -> list[str]:
    """Move along the tier's main path until ``to_state``; returns the gates passed."""
    passed = []
    while registry.state(product, version) != to_state:
        tier = registry.risk_tier(product)
        forward = [t for t in transitions_from(registry.state(product, version), tier)
                   if t.gate.startswith("G")]
        move = forward[0]
        satisfy(registry, product, version, move.gate, run)
        registry.transition(product, version, move.to_state, actor="chair")
        passed.append(move.gate)
    return passed

