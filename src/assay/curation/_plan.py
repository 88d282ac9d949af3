"""A curation plan: the data checks to run on one table, read from YAML.

Every section is optional::

    time: discharged_at                  # dates a unit change
    rules:                               # quality rules, as in assay.curation.run_rules
      - {rule: not_null, column: patient_id}
      - {rule: order, earlier: admitted_at, later: discharged_at}
    plausibility:                        # column: measurement in assay.curation.MEASUREMENTS
      creatinine_mg_dl: creatinine
    duplicates: {near: true, id_columns: [encounter_id]}
    constant: true                       # constant and near-constant columns
    leakage:                             # within one file: from the outcome and the future
      target: readmit_30d
      prediction_time: discharged_at
      feature_times: {hba1c: hba1c_resulted_at}

``assay curate check PLAN --data DATA`` runs one on a file; a validation plan holds one under
``quality:`` and runs it on its cohort before any metric, each finding a check of the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.curation._duplicates import constant_columns, exact_duplicates, near_duplicates
from assay.curation._feature_leakage import features_after_prediction, target_leakage
from assay.curation._plausibility import MEASUREMENTS, check_plausibility
from assay.curation._rules import _RULE_NAMES, Finding, QualityRule
from assay.curation._run_rules import run_rules
from assay.errors import PlanError

__all__ = ["CurationPlan"]


def _known_measurement(name: str) -> str:
    if name not in MEASUREMENTS:
        raise ValueError(f"unknown measurement {name!r}; use one of {', '.join(MEASUREMENTS)}")
    return name


MeasurementName = Annotated[str, AfterValidator(_known_measurement)]


class _Duplicates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    near: bool = False
    id_columns: tuple[str, ...] | None = None
    tolerance: float = Field(default=0.01, gt=0.0)


class _Leakage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str | None = None
    features: tuple[str, ...] | None = None
    auroc_threshold: float = Field(default=0.95, gt=0.5, lt=1.0)
    prediction_time: str | None = None
    feature_times: dict[str, str] = {}


class CurationPlan(BaseModel):
    """The sections of a curation plan file (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time: str | None = None
    rules: tuple[QualityRule, ...] = ()
    plausibility: dict[str, MeasurementName] = {}
    duplicates: _Duplicates | None = None
    constant: bool = False
    leakage: _Leakage | None = None

    def run(self, frame: pd.DataFrame, *, time: str | None = None) -> list[Finding]:
        """Every check of the plan on one table, in plan order; ``time`` (default the plan's
        ``time:``) dates a unit change.

        Raises
        ------
        InputError
            when a check names a column the table does not have.
        """
        return _run(self, frame, time or self.time)

    @classmethod
    def load(cls, path: str | Path) -> CurationPlan:
        """Read a plan file; errors name the file, line and field."""
        path = Path(path)
        source = str(path)
        document, lines = load_yaml_mapping(
            read_yaml_file(path, "curation plan"), source,
            "a curation plan is a YAML mapping with sections such as 'rules:', "
            "'plausibility:', 'duplicates:', 'constant:', 'leakage:'")
        try:
            return cls.model_validate(document)
        except ValidationError as exc:
            raise PlanError(describe_validation_error(exc, source, lines, what="plan",
                                                      tags=_RULE_NAMES)) from exc


def _run(plan: CurationPlan, frame: pd.DataFrame, time: str | None) -> list[Finding]:
    findings = run_rules(frame, plan.rules)
    if plan.plausibility:
        findings += check_plausibility(frame, plan.plausibility, time_column=time)
    if plan.duplicates is not None:
        findings.append(exact_duplicates(frame))
        if plan.duplicates.near:
            findings.append(near_duplicates(frame, id_columns=plan.duplicates.id_columns,
                                            tolerance=plan.duplicates.tolerance))
    if plan.constant:
        constant = constant_columns(frame)
        findings += constant or [_passed(
            "constant_column", [str(c) for c in frame.columns],
            f"No column holds one value in 99% or more of the {len(frame):,} rows.")]
    leakage = plan.leakage
    if leakage is not None and leakage.prediction_time is not None and leakage.feature_times:
        late_features = features_after_prediction(frame, leakage.prediction_time,
                                                  leakage.feature_times)
        if not late_features:
            findings.append(_passed(
                "feature_after_prediction", list(leakage.feature_times),
                f"No feature is recorded after the prediction time "
                f"('{leakage.prediction_time}')."))
        for late in late_features:
            findings.append(Finding(
                rule="feature_after_prediction", columns=(late.feature, late.time_column),
                n_rows=late.n_rows, status="fail", message=late.message,
                details={"prediction_time": late.prediction_time, "n_timed": late.n_timed}))
    if leakage is not None and leakage.target is not None:
        skip = {leakage.target, leakage.prediction_time, *leakage.feature_times.values()}
        features = list(leakage.features) if leakage.features is not None else [
            str(c) for c in frame.columns if c not in skip
            and not pd.api.types.is_datetime64_any_dtype(frame[c])]
        leaks = target_leakage(frame, leakage.target, features,
                               auroc_threshold=leakage.auroc_threshold)
        if not leaks:
            findings.append(_passed(
                "target_leakage", features,
                f"No feature of {len(features)} is identical to, derived from or separates "
                f"the outcome '{leakage.target}' (AUROC lower bound above "
                f"{leakage.auroc_threshold:g})."))
        for leak in leaks:
            findings.append(Finding(
                rule="target_leakage", columns=(leak.feature,), n_rows=0, status="fail",
                message=leak.message,
                details={"kind": leak.kind, "target": leak.target,
                         "auroc": None if leak.auroc is None else leak.auroc.value}))
    return findings


def _passed(rule: str, columns: list[str], message: str) -> Finding:
    return Finding(rule=rule, columns=tuple(columns), n_rows=0, status="pass", message=message)


