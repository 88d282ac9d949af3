"""``assay drift REFERENCE CURRENT``: per-feature drift records plus the domain classifier.

Drift is a finding, not a failure: the command exits 0 whether or not features drifted (a
monitor or alert rule decides what a finding means), and 2 on bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from assay.data import read_table
from assay.drift import DomainClassifierResult, DriftReport, compare_features, domain_classifier

__all__ = ["drift_command", "drift_json"]

console = Console(highlight=False)


def drift_command(
    reference: Annotated[Path, typer.Argument(help="Reference CSV or Parquet (the validation "
                                                   "data).")],
    current: Annotated[Path, typer.Argument(help="Current CSV or Parquet to compare.")],
    features: Annotated[list[str] | None, typer.Option(
        "--features", help="Columns to compare; repeat or comma-separate (default: the "
                           "columns in both files).")] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the records and the multivariate result as JSON.")] = None,
    multivariate: Annotated[bool, typer.Option(
        "--multivariate/--no-multivariate",
        help="Also fit the domain classifier (cross-validated AUROC).")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the domain classifier.")] = 0,
) -> None:
    """Compare CURRENT with REFERENCE feature by feature; exit 0 even when drift is found."""
    ref_frame, ref_name = read_table(reference)
    cur_frame, cur_name = read_table(current)
    names = None if not features else [n.strip() for f in features for n in f.split(",")
                                       if n.strip()]
    report = compare_features(ref_frame, cur_frame, features=names,
                              reference_name=ref_name, current_name=cur_name)
    joint = None
    if multivariate:
        joint = domain_classifier(ref_frame, cur_frame, names, seed=seed,
                                  reference_name=ref_name, current_name=cur_name)
    _print(report, joint)
    if json_path is not None:
        json_path.write_text(json.dumps(drift_json(report, joint), indent=2) + "\n",
                             encoding="utf-8")
        console.print(f"written: {json_path}")


def drift_json(report: DriftReport, joint: DomainClassifierResult | None) -> dict[str, Any]:
    """The JSON document of ``assay drift``."""
    return {
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
    }


def _print(report: DriftReport, joint: DomainClassifierResult | None) -> None:
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
