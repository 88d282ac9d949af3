"""``drift_command`` on a local Typer app: output, JSON keys, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
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


def test_features_option_accepts_repeats_and_commas(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    out = tmp_path / "drift.json"
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--features", "ward",
                                      "--no-multivariate", "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert {r["feature"] for r in document["features"]} == {"ward"}
    assert document["multivariate"] is None


def test_bad_input_exits_2_naming_the_column(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    result = CliRunner().invoke(app, ["drift", str(ref), str(cur), "--features", "potassium"])
    assert result.exit_code == 2
    assert "potassium" in result.output
    missing = CliRunner().invoke(app, ["drift", str(tmp_path / "nope.csv"), str(cur)])
    assert missing.exit_code == 2 and "no such file" in missing.output
