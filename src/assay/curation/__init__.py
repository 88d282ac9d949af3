"""Data curation: what is wrong with the data before a model is judged on it.

Profiles built from mergeable sketches (:func:`profile`, :func:`merge_profiles`,
:func:`compare_profiles`; the ``curation`` extra), quality rules (:func:`run_rules`), clinical
plausibility and unit mismatches (:func:`check_plausibility`, :func:`unit_mismatch`), duplicates
and constant columns, leakage between splits and from the outcome (:func:`check_leakage`), and
likely mislabeled rows by confident learning (:func:`label_issues`), cohorts built by ordered
inclusion and exclusion steps with their attrition and flow diagram (:func:`build_cohort`,
:func:`flow_svg`), datasheets (:func:`build_datasheet`), and PHI detection and redaction in
text and columns (:func:`detect_phi`, :func:`redact`; the ``phi`` extra holds the offline spaCy
model).
"""

from assay.curation._cohort import (
    Attrition,
    AttritionStep,
    Cohort,
    CohortSpec,
    CohortStep,
    build_cohort,
)
from assay.curation._datasheet import Datasheet, build_datasheet, read_answers
from assay.curation._duplicates import constant_columns, exact_duplicates, near_duplicates
from assay.curation._feature_leakage import (
    FeatureAfterPrediction,
    TargetLeak,
    features_after_prediction,
    target_leakage,
)
from assay.curation._flow import flow_png, flow_svg
from assay.curation._labels import confident_joint, cross_validated_probabilities, label_issues
from assay.curation._leakage import (
    LeakageReport,
    PatientsAcrossSplits,
    RowsAcrossSplits,
    SplitOverlap,
    check_leakage,
    patients_across_splits,
    rows_across_splits,
)
from assay.curation._phi import detect_phi, detect_phi_batch, detect_phi_in_column
from assay.curation._phi_redact import RedactionMode, redact
from assay.curation._phi_rules import PhiSpan
from assay.curation._plan import CurationPlan
from assay.curation._plausibility import (
    MEASUREMENTS,
    AlternativeUnit,
    Measurement,
    check_plausibility,
    unit_mismatch,
)
from assay.curation._profile import (
    ColumnProfile,
    ColumnSummary,
    Profile,
    TopValue,
    merge_profiles,
    profile,
)
from assay.curation._profile_compare import ProfileDriftRecord, compare_profiles
from assay.curation._profile_numeric import DayGap, HistogramBin
from assay.curation._rules import (
    AllowedValuesRule,
    Finding,
    FreshnessRule,
    NotNullRule,
    OrderRule,
    QualityRule,
    RangeRule,
    ReferentialRule,
    RegexRule,
    RowCountRule,
    UniqueRule,
)
from assay.curation._run_rules import rule_from_dict, rules_from_dicts, run_rules

__all__ = [
    "MEASUREMENTS",
    "AllowedValuesRule",
    "AlternativeUnit",
    "Attrition",
    "AttritionStep",
    "Cohort",
    "CohortSpec",
    "CohortStep",
    "ColumnProfile",
    "ColumnSummary",
    "CurationPlan",
    "Datasheet",
    "DayGap",
    "FeatureAfterPrediction",
    "Finding",
    "FreshnessRule",
    "HistogramBin",
    "LeakageReport",
    "Measurement",
    "NotNullRule",
    "OrderRule",
    "PatientsAcrossSplits",
    "PhiSpan",
    "Profile",
    "ProfileDriftRecord",
    "QualityRule",
    "RangeRule",
    "RedactionMode",
    "ReferentialRule",
    "RegexRule",
    "RowCountRule",
    "RowsAcrossSplits",
    "SplitOverlap",
    "TargetLeak",
    "TopValue",
    "UniqueRule",
    "build_cohort",
    "build_datasheet",
    "check_leakage",
    "check_plausibility",
    "compare_profiles",
    "confident_joint",
    "constant_columns",
    "cross_validated_probabilities",
    "detect_phi",
    "detect_phi_batch",
    "detect_phi_in_column",
    "exact_duplicates",
    "features_after_prediction",
    "flow_png",
    "flow_svg",
    "label_issues",
    "merge_profiles",
    "near_duplicates",
    "patients_across_splits",
    "profile",
    "read_answers",
    "redact",
    "rows_across_splits",
    "rule_from_dict",
    "rules_from_dicts",
    "run_rules",
    "target_leakage",
    "unit_mismatch",
]
