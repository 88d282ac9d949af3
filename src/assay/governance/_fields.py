"""The model-card field catalogue: the 31 ONC HTI-1 predictive DSI source attributes and the
CHAI Applied Model Card fields that HTI-1 does not ask for, each with a stable id.

A field is filled either from the registry (a product or version field, typed by a person) or
from stored Runs (validity and fairness are computed, never typed). ``registry_keys`` lists the
registry field names a value is read from, in order of preference; a field with several parts
(developer name *and* contact) needs one key of each part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CARD_FIELDS",
    "CARD_SECTIONS",
    "CHAI_FIELDS",
    "HTI1_FIELDS",
    "FieldSpec",
    "RunEvidence",
    "field_spec",
]

RunEvidence = Literal[
    "internal_validity", "internal_fairness", "external_validity", "external_fairness",
    "local_validity", "local_fairness", "external_representativeness", "safety_reliability",
]
"""What a run-derived field is computed from (see ``assay.governance._cards``)."""

CARD_SECTIONS: dict[str, str] = {
    "basic_info": "Basic information",
    "release_info": "Release",
    "model_summary": "Summary",
    "uses_and_directions": "Uses and directions",
    "warnings": "Warnings",
    "ai_system_facts": "AI system facts",
    "transparency_information": "Transparency information",
    "key_metrics": "Key metrics",
    "resources": "Resources",
}
"""The CHAI Applied Model Card (schema v0.2) sections, in the schema's order: id → title."""


@dataclass(frozen=True)
class FieldSpec:
    """One model-card field.

    Parameters
    ----------
    id
        Stable id: ``hti1.<group>.<name>`` for an HTI-1 attribute, ``chai.<section>.<name>``
        for a CHAI card field that HTI-1 does not list.
    title
        What the field holds, in plain words.
    section
        The CHAI Applied Model Card section it belongs to (a key of ``CARD_SECTIONS``).
    hti1_number
        Its number among the 31 HTI-1 predictive source attributes (1–31), else ``None``.
    registry_keys
        Registry field names, one tuple of alternatives per part the value needs.
    run_evidence
        For a run-derived field, what it is computed from; ``None`` for a registry field.
    required
        Whether a missing value lowers the completeness score.
    """

    id: str
    title: str
    section: str
    hti1_number: int | None = None
    registry_keys: tuple[tuple[str, ...], ...] = ()
    run_evidence: RunEvidence | None = None
    required: bool = True

    @property
    def source_kind(self) -> Literal["registry", "run"]:
        """``run`` when the value is computed from stored Runs, else ``registry``."""
        return "run" if self.run_evidence is not None else "registry"


def _hti(number: int, group: str, name: str, title: str, section: str, *keys: str,
         run: RunEvidence | None = None) -> FieldSpec:
    return FieldSpec(id=f"hti1.{group}.{name}", title=title, section=section,
                     hti1_number=number, registry_keys=(keys,) if keys else (),
                     run_evidence=run)


_FACTS = "ai_system_facts"
_USES = "uses_and_directions"
_METRICS = "key_metrics"

HTI1_FIELDS: tuple[FieldSpec, ...] = (
    # 1. Details and output of the intervention
    FieldSpec("hti1.details.developer_name_contact", "Developer name and contact information",
              "basic_info", 1, (("developer", "developer_name", "vendor_name"),
                                ("developer_contact", "contact"))),
    _hti(2, "details", "funding_source",
         "Funding source of the intervention's technical implementation and development",
         "transparency_information", "funding_source"),
    _hti(3, "details", "output_value_description",
         "Description of the value the intervention produces as output", _FACTS,
         "output_value_description", "output_description"),
    _hti(4, "details", "output_type",
         "Output type: prediction, classification, recommendation, evaluation, analysis or "
         "other", _FACTS, "output_type"),
    # 2. Purpose of the intervention
    _hti(5, "purpose", "intended_use", "Intended use", _USES, "intended_use",
         "intended_use_workflow"),
    _hti(6, "purpose", "intended_population", "Intended patient population(s)", _USES,
         "intended_population"),
    _hti(7, "purpose", "intended_users", "Intended user(s)", _USES, "intended_users"),
    _hti(8, "purpose", "decision_role",
         "Intended decision-making role (informs, augments or replaces clinical management)",
         _USES, "decision_role"),
    # 3. Cautioned out-of-scope use
    _hti(9, "out_of_scope", "cautioned_uses",
         "Tasks, situations or populations where users are cautioned against applying it",
         _USES, "cautioned_uses", "out_of_scope_uses"),
    _hti(10, "out_of_scope", "known_risks_limitations",
         "Known risks, inappropriate settings or uses, and known limitations", "warnings",
         "known_risks_limitations", "known_risks"),
    # 4. Development details and input features
    _hti(11, "development", "training_inclusion_exclusion",
         "Inclusion and exclusion criteria that shaped the training data", _FACTS,
         "training_inclusion_exclusion"),
    _hti(12, "development", "demographic_inputs_used",
         "Whether each demographic variable (race, ethnicity, language, sexual orientation, "
         "gender identity, sex, date of birth, social determinants, health status) is an "
         "input feature", _FACTS, "demographic_inputs_used"),
    _hti(13, "development", "training_demographic_representativeness",
         "Demographic representativeness of the training data", _FACTS,
         "training_demographic_representativeness"),
    _hti(14, "development", "training_relevance_to_setting",
         "Relevance of the training data to the intended deployment setting", _FACTS,
         "training_relevance_to_setting"),
    # 5. Process used to ensure fairness in development
    _hti(15, "fairness_process", "fairness_approach",
         "Developer's approach to making the output fair", _FACTS, "fairness_approach"),
    _hti(16, "fairness_process", "bias_mitigation",
         "Approaches used to manage, reduce or eliminate bias", _FACTS, "bias_mitigation"),
    # 6. External validation process
    _hti(17, "external_validation", "source",
         "Data source, clinical setting or environment of the external validation", _METRICS,
         "external_validation_source"),
    _hti(18, "external_validation", "party", "Party that conducted the external testing",
         _METRICS, "external_validation_party"),
    _hti(19, "external_validation", "demographic_representativeness",
         "Demographic representativeness of the external data", _METRICS,
         run="external_representativeness"),
    _hti(20, "external_validation", "process", "Description of the external validation process",
         _METRICS, "external_validation_process"),
    # 7. Quantitative measures of performance
    _hti(21, "performance", "internal_validity",
         "Validity on test data from the same source as the training data", _METRICS,
         run="internal_validity"),
    _hti(22, "performance", "internal_fairness",
         "Fairness on test data from the same source as the training data", _METRICS,
         run="internal_fairness"),
    _hti(23, "performance", "external_validity", "Validity on external data", _METRICS,
         run="external_validity"),
    _hti(24, "performance", "external_fairness", "Fairness on external data", _METRICS,
         run="external_fairness"),
    _hti(25, "performance", "outcome_evaluation_refs",
         "References to evaluations of outcomes (morbidity, mortality, length of stay, ...)",
         "resources", "outcome_evaluation_refs"),
    # 8. Ongoing maintenance of implementation and use
    _hti(26, "maintenance", "validity_monitoring_process",
         "Process and frequency for monitoring validity over time", _FACTS,
         "validity_monitoring_process", "monitoring_plan", "maintenance_plan"),
    _hti(27, "maintenance", "local_validity", "Validity in local data", _METRICS,
         run="local_validity"),
    _hti(28, "maintenance", "fairness_monitoring_process",
         "Process and frequency for monitoring fairness over time", _FACTS,
         "fairness_monitoring_process"),
    _hti(29, "maintenance", "local_fairness", "Fairness in local data", _METRICS,
         run="local_fairness"),
    # 9. Update and continued validation or fairness assessment schedule
    _hti(30, "updates", "update_process_frequency",
         "Process and frequency for updating the intervention", _FACTS,
         "update_process_frequency", "update_schedule"),
    _hti(31, "updates", "correction_frequency",
         "How often performance is corrected when validity or fairness risks are identified",
         _FACTS, "correction_frequency"),
)
"""The 31 HTI-1 predictive DSI source attributes (45 CFR 170.315(b)(11)(iv)(B)), in order."""


def _chai(section: str, name: str, title: str, *keys: str, required: bool = True,
          run: RunEvidence | None = None) -> FieldSpec:
    short = {"basic_info": "basic", "release_info": "release", "model_summary": "summary",
             _USES: "uses", "warnings": "warnings", _FACTS: "facts",
             "transparency_information": "transparency", _METRICS: "metrics",
             "resources": "resources"}[section]
    return FieldSpec(id=f"chai.{short}.{name}", title=title, section=section,
                     registry_keys=(keys,) if keys else (), run_evidence=run,
                     required=required)


CHAI_FIELDS: tuple[FieldSpec, ...] = (
    _chai("basic_info", "model_name", "Model name", "name", "product_name"),
    _chai("release_info", "version", "Release version", "version"),
    _chai("release_info", "release_stage", "Release stage", "release_stage", "lifecycle_state",
          "state"),
    _chai("release_info", "release_date", "Release date", "release_date", required=False),
    _chai("release_info", "regulatory_approval", "Regulatory status", "regulatory_status",
          "regulatory_approval", required=False),
    _chai("model_summary", "summary", "Summary", "summary", "description"),
    _chai("model_summary", "keywords", "Keywords", "keywords", required=False),
    _chai(_USES, "how_to_use", "How to use the output", "how_to_use"),
    _chai("warnings", "known_biases_ethics", "Known biases or ethical considerations",
          "known_biases_ethics", "known_biases"),
    _chai("warnings", "clinical_risk_level", "Clinical risk level", "clinical_risk_tier",
          "clinical_risk_level"),
    _chai(_FACTS, "model_type", "Model type", "model_type"),
    _chai(_FACTS, "foundation_models", "Foundation models", "foundation_models",
          required=False),
    _chai(_FACTS, "input_data_source", "Input data source", "input_data_sources",
          "input_data_source"),
    _chai(_FACTS, "input_features", "Input and output data types", "input_output_data_types",
          "input_features"),
    _chai(_FACTS, "development_data", "Development data characterization",
          "training_data_description"),
    _chai(_FACTS, "artifact", "Model artifact", "artifact_uri", required=False),
    _chai(_FACTS, "security", "Security", "security_controls", required=False),
    _chai("transparency_information", "third_party_information", "Third-party components",
          "third_party_components", required=False),
    _chai("transparency_information", "stakeholders_consulted", "Stakeholders consulted",
          "stakeholders_consulted"),
    _chai(_METRICS, "safety_reliability",
          "Safety and reliability: robustness and metamorphic checks", required=False,
          run="safety_reliability"),
    _chai("resources", "peer_reviewed_publications", "Peer-reviewed publications",
          "peer_reviewed_publications", required=False),
    _chai("resources", "patient_consent_disclosure", "Patient consent or disclosure",
          "patient_consent_disclosure"),
)
"""The CHAI Applied Model Card fields that HTI-1 does not list."""

CARD_FIELDS: tuple[FieldSpec, ...] = tuple(
    spec for section in CARD_SECTIONS
    for spec in (*HTI1_FIELDS, *CHAI_FIELDS) if spec.section == section
)
"""Every card field, grouped by CHAI section in the schema's order."""

_BY_ID = {spec.id: spec for spec in CARD_FIELDS}


def field_spec(field_id: str) -> FieldSpec:
    """The field called ``field_id``; an unknown id is a KeyError naming the known prefixes."""
    try:
        return _BY_ID[field_id]
    except KeyError:
        raise KeyError(f"unknown model-card field {field_id!r}; ids start with 'hti1.' or "
                       "'chai.' (see assay.governance CARD_FIELDS)") from None
