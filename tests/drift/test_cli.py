"""``drift_command`` on a local Typer app: output, JSON keys, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from assay.cli._app import exits_2_on_bad_input
from assay.cli._drift import drift_command

app = typer.Typer()
app.command("drift")(exits_2_on_bad_input(drift_command))


@app.callback()
def _root() -> None:
    """Keep ``drift`` as a named subcommand."""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(31)
    ref = pd.DataFrame({"age": rng.normal(60, 10, 600), "ward": rng.choice(["a", "b"], 600)})
    cur = pd.DataFrame({"age": rng.normal(70, 10, 600), "ward": rng.choice(["a", "b"], 600)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    return tmp_path / "ref.csv", tmp_path / "cur.parquet"


def test_drift_found_still_exits_0_and_writes_the_records(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "age" in result.output and "Multivariate" in result.output
    document = json.loads(out.read_text())
    assert {"feature", "method", "statistic", "threshold", "drifted"} <= set(
        document["features"][0])
    age_psi = next(r for r in document["features"]
                   if r["feature"] == "age" and r["method"] == "psi")
    assert age_psi["drifted"] is True and age_psi["statistic"] > 0.2
    multivariate = document["multivariate"]
    assert multivariate["drifted"] is True and multivariate["top_features"][0] == "age"
    assert multivariate["ci_low"] > 0.55
    pca = document["pca_reconstruction"]
    assert pca["method"] == "pca_reconstruction" and pca["n_components"] >= 1
    assert pca["reference_error"]["ci_low"] < pca["reference_error"]["value"]
    assert "PCA reconstruction" in result.output
    assert "prediction" not in document and "prevalence" not in document


def test_features_option_accepts_repeats_and_commas(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--features", "ward",
                                      "--no-multivariate", "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert {r["feature"] for r in document["features"]} == {"ward"}
    assert document["multivariate"] is None and document["pca_reconstruction"] is None


def _scored_files(tmp_path: Path) -> tuple[Path, Path]:
    # 1000 patients each; 20 % flagged at 0.5 in the reference, 40 % now; 10 % then 11 % died.
    ref = pd.DataFrame({"age": np.arange(1000) % 90.0, "sodium": np.arange(1000) % 17.0,
                        "risk": np.r_[np.full(200, 0.7), np.full(800, 0.2)],
                        "died": np.r_[np.ones(100, int), np.zeros(900, int)]})
    cur = ref.assign(risk=np.r_[np.full(400, 0.6), np.full(600, 0.1)],
                     died=np.r_[np.ones(110, int), np.zeros(890, int)])
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path / "ref.csv", tmp_path / "cur.csv"


def test_score_threshold_and_target_add_prediction_and_prevalence(tmp_path: Path) -> None:
    ref, cur = _scored_files(tmp_path)
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--score", "risk",
                                      "--threshold", "0.5", "--target", "died",
                                      "--no-multivariate", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Prediction:" in result.output and "Prevalence:" in result.output
    document = json.loads(out.read_text())
    assert {r["feature"] for r in document["features"]} == {"age", "sodium"}
    prediction = document["prediction"]
    assert prediction["score"] == "risk" and prediction["decision_threshold"] == 0.5
    flags = prediction["flag_rate"]
    assert flags["reference"]["value"] == 0.2 and flags["current"]["value"] == 0.4
    assert flags["relative_change"] == pytest.approx(1.0) and flags["drifted"] is True
    assert {r["method"] for r in prediction["records"]} == {"psi", "ks"}
    ks = next(r for r in prediction["records"] if r["method"] == "ks")
    assert ks["statistic"] == pytest.approx(0.6) and ks["drifted"] is True  # gap at 0.1
    prevalence = document["prevalence"]
    assert prevalence["target"] == "died" and prevalence["reference"]["events"] == 100
    assert prevalence["relative_change"] == pytest.approx(0.1)
    assert prevalence["drifted"] is False


def test_threshold_without_score_and_a_missing_score_column_exit_2(tmp_path: Path) -> None:
    ref, cur = _scored_files(tmp_path)
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--threshold", "0.5"])
    assert result.exit_code == 2 and "--score" in result.output
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--score", "lace",
                                      "--no-multivariate"])
    assert result.exit_code == 2 and "'lace'" in result.output


def test_bad_input_exits_2_naming_the_column(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--features", "potassium"])
    assert result.exit_code == 2
    assert "potassium" in result.output
    missing = CliRunner().invoke(app, ["drift", str(tmp_path / "nope.csv"), str(cur)])
    assert missing.exit_code == 2 and "no such file" in missing.output
