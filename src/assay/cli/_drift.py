"""``assay drift REFERENCE CURRENT``: per-feature drift, the multivariate methods, output drift.

Per feature: the registry's methods (:func:`~assay.drift.compare_features`). Jointly: the domain
classifier (JSON key ``multivariate``, kept for compatibility) and the PCA reconstruction error
(key ``pca_reconstruction``). With ``--score`` / ``--threshold`` / ``--target``: the score and
flag-rate drift (key ``prediction``) and the outcome-rate drift (key ``prevalence``).

Drift is a finding, not a failure: the command exits 0 whether or not features drifted (a
monitor or alert rule decides what a finding means), and 2 on bad input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from assay.data import read_table
from assay.drift import (
    DomainClassifierResult,
    DriftReport,
    PcaDriftResult,
    PredictionDriftResult,
    RateDrift,
    compare_features,
    domain_classifier,
    pca_reconstruction,
    prediction_drift,
    prevalence_drift,
)
from assay.errors import InputError

__all__ = ["drift_command", "drift_json"]

console = Console(highlight=False)

Result = TypeVar("Result")


def drift_command(
    reference: Annotated[Path, typer.Argument(help="Reference CSV or Parquet (the validation "
                                                   "data).")],
    current: Annotated[Path, typer.Argument(help="Current CSV or Parquet to compare.")],
    features: Annotated[list[str] | None, typer.Option(
        "--features", help="Columns to compare; repeat or comma-separate (default: the "
                           "columns in both files but the score and target).")] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the records and the multivariate result as JSON.")] = None,
    multivariate: Annotated[bool, typer.Option(
        "--multivariate/--no-multivariate",
        help="Also fit the domain classifier (cross-validated AUROC) and the PCA "
             "reconstruction error (two features or more).")] = True,
    score: Annotated[str | None, typer.Option(
        "--score", help="Score column: compare the score distribution (PSI, KS).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Decision threshold on the score (flag when score >= it): "
                            "compare the flag rate.")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help="Outcome column (0/1): compare the outcome rate.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the domain classifier and the PCA "
                                           "bootstrap.")] = 0,
) -> None:
    """Compare CURRENT with REFERENCE feature by feature; exit 0 even when drift is found."""
    if threshold is not None and score is None:
        raise InputError("--threshold needs --score (the column the threshold applies to)")
    ref_frame, ref_name = read_table(reference)
    cur_frame, cur_name = read_table(current)
    outputs = [c for c in (score, target) if c is not None]
    for column in outputs:
        for frame, name in ((ref_frame, ref_name), (cur_frame, cur_name)):
            if column not in frame.columns:
                raise InputError(f"column {column!r} is not in {name}")
    names = None if not features else [n.strip() for f in features for n in f.split(",")
                                       if n.strip()]
    if names is None and outputs:
        names = [str(c) for c in ref_frame.columns
                 if c in cur_frame.columns and c not in outputs]
    report = compare_features(ref_frame, cur_frame, features=names,
                              reference_name=ref_name, current_name=cur_name)
    joint = pca = None
    if multivariate:
        joint = domain_classifier(ref_frame, cur_frame, names, seed=seed,
                                  reference_name=ref_name, current_name=cur_name)
        compared = list(dict.fromkeys(r.feature for r in report.records))
        if len(compared) >= 2:
            pca = pca_reconstruction(ref_frame, cur_frame, compared, seed=seed,
                                     reference_name=ref_name, current_name=cur_name)
    prediction = prevalence = None
    if score is not None:
        prediction = _on_column(score, lambda: prediction_drift(
            ref_frame[score], cur_frame[score], threshold=threshold))
    if target is not None:
        prevalence = _on_column(target, lambda: prevalence_drift(ref_frame[target],
                                                                 cur_frame[target]))
    _print(report, joint, pca, prediction, prevalence)
    if json_path is not None:
        document = drift_json(report, joint, pca=pca, prediction=prediction,
                              prevalence=prevalence, score=score, target=target)
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        console.print(f"written: {json_path}")


def drift_json(
    report: DriftReport,
    joint: DomainClassifierResult | None,
    *,
    pca: PcaDriftResult | None = None,
    prediction: PredictionDriftResult | None = None,
    prevalence: RateDrift | None = None,
    score: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """The JSON document of ``assay drift``.

    ``prediction`` and ``prevalence`` sections appear only when their results are given.
    """
    document: dict[str, Any] = {
        "reference": report.reference,
        "current": report.current,
        "multiplicity": report.multiplicity,
        "features": [r.model_dump(include={"feature", "kind", "method", "statistic",
                                           "threshold", "drifted", "p_value", "p_adjusted"})
                     for r in report.records],
        "multivariate": None if joint is None else {
            "method": "domain_classifier",
            "auroc": joint.auroc.value,
            "ci_low": joint.auroc.ci_low,
            "ci_high": joint.auroc.ci_high,
            "threshold": joint.threshold,
            "drifted": joint.drifted,
            "top_features": joint.top_features(),
        },
        "pca_reconstruction": None if pca is None else {
            "method": "pca_reconstruction",
            "reference_error": _interval(pca.reference_error.model_dump()),
            "current_error": _interval(pca.current_error.model_dump()),
            "relative_increase": _interval(pca.relative_increase.model_dump()),
            "threshold": pca.threshold,
            "drifted": pca.drifted,
            "n_components": pca.n_components,
            "explained_variance": pca.explained_variance,
            "top_features": pca.top_features(),
        },
    }
    if prediction is not None:
        document["prediction"] = {
            "score": score,
            "drifted": prediction.drifted,
            "records": [r.model_dump(include={"method", "statistic", "threshold", "drifted",
                                              "p_value", "n_reference", "n_current"})
                        for r in prediction.score],
            "decision_threshold": prediction.decision_threshold,
            "flag_rate": None if prediction.flag_rate is None else _rate(prediction.flag_rate),
        }
    if prevalence is not None:
        document["prevalence"] = {"target": target, **_rate(prevalence)}
    return document


def _interval(estimate: dict[str, Any]) -> dict[str, Any]:
    return {k: estimate[k] for k in ("value", "ci_low", "ci_high", "n")}


def _rate(rate: RateDrift) -> dict[str, Any]:
    return {
        "reference": _interval(rate.reference.model_dump()) | {
            "events": rate.reference.n_events},
        "current": _interval(rate.current.model_dump()) | {"events": rate.current.n_events},
        "difference": _interval(rate.difference.model_dump()),
        "relative_change": rate.relative_change,
        "threshold": rate.threshold,
        "drifted": rate.drifted,
    }


def _on_column(column: str, compute: Callable[[], Result]) -> Result:
    try:
        return compute()
    except InputError as exc:
        raise InputError(f"column {column!r}: {exc}") from exc


def _print(report: DriftReport, joint: DomainClassifierResult | None,
           pca: PcaDriftResult | None, prediction: PredictionDriftResult | None,
           prevalence: RateDrift | None) -> None:
    table = Table(title=f"Drift of {report.current} against {report.reference}")
    for column in ("feature", "method", "statistic", "threshold", "drifted"):
        table.add_column(column, justify="right" if column in {"statistic", "threshold"}
                         else "left")
    for record in report.records:
        table.add_row(record.feature, record.method, f"{record.statistic:.4f}",
                      f"{record.threshold:g}", "[bold red]yes[/]" if record.drifted else "no")
    console.print(table)
    console.print(report.summary())
    if joint is not None:
        console.print("Multivariate: " + joint.summary())
    if pca is not None:
        console.print("PCA reconstruction: " + pca.summary())
    if prediction is not None:
        console.print("Prediction: " + prediction.summary())
    if prevalence is not None:
        console.print("Prevalence: " + prevalence.summary())

