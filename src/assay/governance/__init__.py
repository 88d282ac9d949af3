"""Governance: the AI product registry, its lifecycle gates, sign-offs and decisions.

Needs the ``store`` extra. Products and versions carry string fields by key; a version moves
through the lifecycle of the reference (``proposed`` … ``deployed``) only through a gate whose
evidence and sign-offs are present, and every change is a hash-chained audit event.
:func:`build_model_card` fills the CHAI Applied Model Card and the 31 ONC HTI-1 source
attributes from the registry's fields and the version's stored Runs.
"""

from __future__ import annotations

from assay.governance._cards import CardField, CardSection, ModelCard, build_model_card
from assay.governance._fields import (
    CARD_FIELDS,
    CARD_SECTIONS,
    CHAI_FIELDS,
    HTI1_FIELDS,
    FieldSpec,
    field_spec,
)
from assay.governance._lifecycle import (
    DECISIONS,
    GATES,
    RISK_TIERS,
    ROLES,
    STATES,
    TRANSITIONS,
    Decision,
    Evidence,
    Gate,
    RiskTier,
    SignOffRule,
    State,
    Transition,
    gate,
    gate_table_markdown,
    transitions_from,
)
from assay.governance._records import (
    PRODUCT_CORE_FIELDS,
    PRODUCT_FIELD_CHOICES,
    VERSION_CORE_FIELDS,
    Contingency,
    GateDecision,
    GateError,
    OpenContingency,
    SignOff,
)
from assay.governance._registry import (
    ModelCardCheck,
    Registry,
    card_completeness_check,
    default_model_card_check,
)

__all__ = [
    "CARD_FIELDS",
    "CARD_SECTIONS",
    "CHAI_FIELDS",
    "DECISIONS",
    "GATES",
    "HTI1_FIELDS",
    "PRODUCT_CORE_FIELDS",
    "PRODUCT_FIELD_CHOICES",
    "RISK_TIERS",
    "ROLES",
    "STATES",
    "TRANSITIONS",
    "VERSION_CORE_FIELDS",
    "CardField",
    "CardSection",
    "Contingency",
    "Decision",
    "Evidence",
    "FieldSpec",
    "Gate",
    "GateDecision",
    "GateError",
    "ModelCard",
    "ModelCardCheck",
    "OpenContingency",
    "Registry",
    "RiskTier",
    "SignOff",
    "SignOffRule",
    "State",
    "Transition",
    "build_model_card",
    "card_completeness_check",
    "default_model_card_check",
    "field_spec",
    "gate",
    "gate_table_markdown",
    "transitions_from",
]
