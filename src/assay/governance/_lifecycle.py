"""The lifecycle of a governed AI product version, as data: states, gates, evidence, sign-offs.

Follows the reference state machine (CHAI stages, Duke ABCDS checkpoints, FURM, NIST MANAGE):
``proposed → registered → scoped → design_approved → built_or_procured → locally_validated →
silent_evaluation → pilot → deployed``, then ``under_review``, ``change_validated``,
``suspended``, ``decommissioned`` (and ``declined`` after a decline decision).

The clinical risk tier picks the review pathway (Duke): ``high`` is FULL review (every gate,
governance committee at G2, G4, G6, G7), ``medium`` is FAST_TRACK (no pilot: silent evaluation
goes straight to deployment under G7), ``low`` is REGISTRATION_ONLY (no silent evaluation or
pilot: locally validated goes straight to deployment under G7, and the owners self-attest the
local validation, so G4 asks for no independent validator). Which gates a tier skips is a
platform choice the reference leaves open (it is marked ⚠ there); this module is where it lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "DECISIONS",
    "GATES",
    "RISK_TIERS",
    "ROLES",
    "STATES",
    "TRANSITIONS",
    "Decision",
    "Evidence",
    "Gate",
    "RiskTier",
    "SignOffRule",
    "State",
    "Transition",
    "gate",
    "gate_table_markdown",
    "transitions_from",
]

State = Literal[
    "proposed", "registered", "scoped", "design_approved", "built_or_procured",
    "locally_validated", "silent_evaluation", "pilot", "deployed", "under_review",
    "change_validated", "suspended", "decommissioned", "declined",
]
STATES: tuple[State, ...] = get_args(State)

RiskTier = Literal["low", "medium", "high"]
RISK_TIERS: tuple[RiskTier, ...] = get_args(RiskTier)
ALL_TIERS: frozenset[RiskTier] = frozenset(RISK_TIERS)

Decision = Literal["approve", "approve_with_contingencies", "re_review", "decline"]
DECISIONS: tuple[Decision, ...] = get_args(Decision)

ROLES: tuple[str, ...] = (
    "governance_office", "implementation_subcommittee", "privacy_officer", "clinical_owner",
    "technical_owner", "executive_sponsor", "ethics_reviewer", "governance_committee",
    "it_security", "validator", "equity_reviewer", "ehr_integration_owner",
    "patient_safety_officer",
)
"""Sign-off roles of the reference's RACI (NIST GV-2, Joint Commission, Duke, FURM)."""

EvidenceKind = Literal["product_field", "version_field", "passing_run", "model_card_complete"]


@dataclass(frozen=True)
class Evidence:
    """One item of evidence a gate asks for.

    ``product_field`` / ``version_field``: the named field is present and not blank.
    ``passing_run``: a stored validation Run of this version that passed (no failed check).
    ``model_card_complete``: the model card hook reports nothing missing (by default: the
    ``fields`` listed here are present on the product or the version).
    """

    kind: EvidenceKind
    name: str
    fields: tuple[str, ...] = ()
    tiers: frozenset[RiskTier] = ALL_TIERS

    def describe(self) -> str:
        """The item in words, as a refusal lists it."""
        if self.kind == "product_field":
            return f"product field '{self.name}'"
        if self.kind == "version_field":
            return f"version field '{self.name}'"
        if self.kind == "passing_run":
            return "a passing validation Run of this version stored"
        return "a complete model card"


@dataclass(frozen=True)
class SignOffRule:
    """A role that must sign a gate, for the tiers listed."""

    role: str
    tiers: frozenset[RiskTier] = ALL_TIERS


@dataclass(frozen=True)
class Gate:
    """A checkpoint: the evidence and sign-offs a transition through it needs.

    ``independent`` names the roles whose independence the reference asks for (the validator is
    not the developer: NIST MS-1.3, Duke). On such a gate one person signs one role, and the
    validator is not the product's ``technical_owner``.
    """

    id: str
    title: str
    evidence: tuple[Evidence, ...]
    sign_offs: tuple[SignOffRule, ...]
    independent: tuple[str, ...] = ()
    independent_tiers: frozenset[RiskTier] = ALL_TIERS

    def evidence_for(self, tier: RiskTier) -> tuple[Evidence, ...]:
        """The evidence this gate asks of a product of ``tier``."""
        return tuple(item for item in self.evidence if tier in item.tiers)

    def roles_for(self, tier: RiskTier) -> tuple[str, ...]:
        """The sign-off roles this gate asks of a product of ``tier``."""
        return tuple(rule.role for rule in self.sign_offs if tier in rule.tiers)

    def independence_for(self, tier: RiskTier) -> tuple[str, ...]:
        """The roles that must be signed by different people for ``tier`` (may be empty)."""
        return self.independent if tier in self.independent_tiers else ()


@dataclass(frozen=True)
class Transition:
    """An allowed move between two states through a gate, for the tiers listed."""

    from_state: State
    to_state: State
    gate: str
    tiers: frozenset[RiskTier] = ALL_TIERS


def _product(*names: str, tiers: frozenset[RiskTier] = ALL_TIERS) -> tuple[Evidence, ...]:
    return tuple(Evidence("product_field", name, tiers=tiers) for name in names)


def _version(*names: str, tiers: frozenset[RiskTier] = ALL_TIERS) -> tuple[Evidence, ...]:
    return tuple(Evidence("version_field", name, tiers=tiers) for name in names)


def _roles(*roles: str, tiers: frozenset[RiskTier] = ALL_TIERS) -> tuple[SignOffRule, ...]:
    return tuple(SignOffRule(role, tiers) for role in roles)


HIGH: frozenset[RiskTier] = frozenset({"high"})
MEDIUM_HIGH: frozenset[RiskTier] = frozenset({"medium", "high"})
PASSING_RUN = Evidence("passing_run", "passing_run")
MODEL_CARD = Evidence("model_card_complete", "model_card", fields=(
    "intended_use", "intended_users", "intended_population", "decision_role",
    "out_of_scope_uses", "known_risks", "training_data_description", "bias_mitigation",
))

GATES: tuple[Gate, ...] = (
    Gate("G0", "intake and registration",
         _product("kind", "intended_use", "intended_users", "intended_population",
                  "decision_role", "source", "clinical_owner", "technical_owner"),
         _roles("governance_office")),
    Gate("G1", "risk tier and scope",
         _product("clinical_risk_tier", "risk_tier_rationale", "fda_device_determination",
                  "privacy_screen"),
         _roles("implementation_subcommittee", "privacy_officer")),
    Gate("G2", "design approval (problem, benefit, acceptance criteria)",
         _product("problem_statement", "alternatives_considered", "expected_benefit",
                  "acceptance_criteria", "monitoring_plan")
         + _product("ethics_assessment", tiers=MEDIUM_HIGH),
         _roles("clinical_owner") + _roles("executive_sponsor", "ethics_reviewer",
                                           tiers=MEDIUM_HIGH)
         + _roles("governance_committee", tiers=HIGH)),
    Gate("G3", "built or procured",
         _version("artifact_uri", "training_data_description")
         + _product("out_of_scope_uses", "known_risks"),
         _roles("technical_owner") + _roles("it_security", tiers=MEDIUM_HIGH)),
    Gate("G4", "retrospective local validation",
         (PASSING_RUN, *_product("bias_mitigation", "risk_register")),
         _roles("clinical_owner") + _roles("technical_owner", tiers=frozenset({"low"}))
         + _roles("validator", "equity_reviewer", tiers=MEDIUM_HIGH)
         + _roles("governance_committee", tiers=HIGH),
         independent=("validator", "technical_owner"), independent_tiers=MEDIUM_HIGH),
    Gate("G5", "integration before silent evaluation",
         _version("integration_test_evidence") + _product("decommission_plan"),
         _roles("ehr_integration_owner", "validator")),
    Gate("G6", "silent evaluation to pilot",
         _version("silent_evaluation_summary", "pilot_protocol", "user_training"),
         _roles("clinical_owner", "governance_committee", "patient_safety_officer")),
    Gate("G7", "deployment",
         (MODEL_CARD, *_product("monitoring_plan"),
          *_version("pilot_evaluation", tiers=HIGH),
          *_version("silent_evaluation_summary", tiers=frozenset({"medium"}))),
         _roles("clinical_owner") + _roles("governance_committee", tiers=MEDIUM_HIGH)
         + _roles("executive_sponsor", tiers=HIGH)),
    Gate("review", "re-validation triggered", _version("review_trigger"),
         _roles("validator", "clinical_owner")),
    Gate("change", "in-protocol change validated",
         (PASSING_RUN, *_product("change_protocol"), *_version("change_notes")),
         _roles("validator", "clinical_owner"),
         independent=("validator", "technical_owner")),
    Gate("redeploy", "validated change deployed", (), _roles("clinical_owner")),
    Gate("revalidate", "major or out-of-protocol change: back to local validation",
         _version("change_notes"), _roles("validator")),
    Gate("suspend", "safety event, RED breach or security incident",
         _version("suspension_reason"), _roles("clinical_owner")),
    Gate("reinstate", "fix verified after suspension",
         (PASSING_RUN, *_version("fix_description")),
         _roles("clinical_owner", "validator"), independent=("validator", "technical_owner")),
    Gate("decommission", "retired", _product("decommission_plan"),
         _roles("governance_committee")),
)

_PATH: tuple[tuple[State, State, str], ...] = (
    ("proposed", "registered", "G0"), ("registered", "scoped", "G1"),
    ("scoped", "design_approved", "G2"), ("design_approved", "built_or_procured", "G3"),
    ("built_or_procured", "locally_validated", "G4"),
)
_ACTIVE: tuple[State, ...] = (
    "proposed", "registered", "scoped", "design_approved", "built_or_procured",
    "locally_validated", "silent_evaluation", "pilot", "deployed", "under_review",
    "change_validated",
)

TRANSITIONS: tuple[Transition, ...] = (
    *(Transition(a, b, g) for a, b, g in _PATH),
    Transition("locally_validated", "silent_evaluation", "G5", MEDIUM_HIGH),
    Transition("silent_evaluation", "pilot", "G6", HIGH),
    Transition("pilot", "deployed", "G7", HIGH),
    Transition("silent_evaluation", "deployed", "G7", frozenset({"medium"})),
    Transition("locally_validated", "deployed", "G7", frozenset({"low"})),
    Transition("deployed", "under_review", "review"),
    Transition("under_review", "change_validated", "change"),
    Transition("change_validated", "deployed", "redeploy"),
    Transition("under_review", "locally_validated", "revalidate"),
    *(Transition(state, "suspended", "suspend") for state in
      ("silent_evaluation", "pilot", "deployed", "under_review", "change_validated")),
    Transition("suspended", "deployed", "reinstate"),
    *(Transition(state, "decommissioned", "decommission")
      for state in (*_ACTIVE, "suspended")),
)


def gate(gate_id: str) -> Gate:
    """The gate called ``gate_id``; an unknown id is a ``KeyError`` naming the known ones."""
    for candidate in GATES:
        if candidate.id == gate_id:
            return candidate
    raise KeyError(f"unknown gate {gate_id!r}; gates: {', '.join(g.id for g in GATES)}")


def transitions_from(state: str, tier: RiskTier) -> tuple[Transition, ...]:
    """The moves allowed out of ``state`` for a product of ``tier``."""
    return tuple(t for t in TRANSITIONS if t.from_state == state and tier in t.tiers)


def gate_table_markdown() -> str:
    """The states-and-gates table of ``docs/governance.md``, generated from this data."""
    lines = ["| Gate | Transition (tiers) | Evidence (tier if not all) | Sign-off roles "
             "(tier if not all) | Independent roles |", "|---|---|---|---|---|"]
    for item in GATES:
        groups: dict[tuple[State, frozenset[RiskTier]], list[str]] = {}
        for move in (t for t in TRANSITIONS if t.gate == item.id):
            groups.setdefault((move.to_state, move.tiers), []).append(move.from_state)
        moves = "; ".join(" / ".join(froms) + f" → {to}" + _tiers(tiers)
                          for (to, tiers), froms in groups.items())
        evidence = "; ".join(e.describe() + _tiers(e.tiers) for e in item.evidence) or "—"
        roles = ", ".join(r.role + _tiers(r.tiers) for r in item.sign_offs)
        independent = (" ≠ ".join(item.independent) + _tiers(item.independent_tiers)
                       if item.independent else "—")
        lines.append(f"| **{item.id}** {item.title} | {moves} | {evidence} | {roles} | "
                     f"{independent} |")
    return "\n".join(lines)


def _tiers(tiers: frozenset[RiskTier]) -> str:
    if tiers == ALL_TIERS:
        return ""
    return " (" + "/".join(t for t in RISK_TIERS if t in tiers) + ")"
