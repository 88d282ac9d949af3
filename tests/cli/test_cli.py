from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assay.checks import Run
from assay.cli._app import app

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    n = 600
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 1.5 * x)))).astype(int)
    frame = pd.DataFrame({
        "id": range(n), "y": y,
        "risk": 1 / (1 + np.exp(-(-1 + 1.5 * x))),
        "old_risk": 1 / (1 + np.exp(-(-1 + 0.8 * x + rng.normal(size=n)))),
    })
    frame.to_csv(folder / "good.csv", index=False)
    bad = {
        "non_binary": frame.assign(y=frame["y"].where(frame.index % 50 != 0, 2)),
        "nan_score": frame.assign(risk=frame["risk"].where(frame.index % 100 != 0)),
        "inf_score": frame.assign(risk=frame["risk"].where(frame.index != 5, np.inf)),
        "single_class": frame.assign(y=0),
        "duplicated_id": frame.assign(id=frame["id"] // 2),
        "empty": frame.iloc[:0],
    }
    for name, table in bad.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    (folder / "plan.yaml").write_text(
        "name: cli-plan\nroles: {target: y, score: [risk, old_risk], id: id}\n"
        "settings: {n_boot: 200}\nthresholds: {operating: 0.4}\nchecks:\n"
        "  - metric: auroc\n    condition: ci_low >= 0.6\n"
        "  - metric: sensitivity\n    threshold: operating\n    condition: ci_low >= 0.3\n")
    (folder / "strict.yaml").write_text(
        "name: strict\nroles: {target: y, score: risk}\nsettings: {n_boot: 200}\nchecks:\n"
        "  - metric: auroc\n    condition: ci_low >= 0.99\n")
    (folder / "broken.yaml").write_text("name: broken\nchecks:\n  - metric: auroc\n    cond: 1\n")
    return folder


def test_evaluate_prints_and_writes_the_json_contract(data_dir: Path) -> None:
    out = data_dir / "eval.json"
    result = runner.invoke(app, ["evaluate", str(data_dir / "good.csv"), "--target", "y",
                                 "--score", "risk", "--score", "old_risk", "--threshold", "0.3",
                                 "--n-boot", "200", "--json", str(out),
                                 "--html", str(data_dir / "eval.html")])
    assert result.exit_code == 0, result.output
    assert "describes performance without acceptance criteria" in (
        data_dir / "eval.html").read_text()
    assert "auroc" in result.output and "risk" in result.output
    document = json.loads(out.read_text())
    records = {(m["score"], m["metric"]): m for m in document["metrics"]}
    for key in ("score", "metric", "value", "ci_low", "ci_high", "method", "n"):
        assert key in records[("risk", "auroc")]
    assert records[("risk", "auroc")]["method"] == "delong"
    assert records[("risk", "sensitivity")]["method"] == "wilson"
    assert records[("old_risk", "calibration_slope")]["n"] == 600
    comparison = document["comparisons"][0]
    assert (comparison["metric"], comparison["a"], comparison["b"]) == ("auroc", "risk",
                                                                         "old_risk")
    assert comparison["difference"] > 0 and comparison["p_value"] < 0.05
    assert comparison["method"] == "delong"
    assert comparison["ci_low"] < comparison["difference"] < comparison["ci_high"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("non_binary", "column 'y' (target) must contain only 0/1 (found 2 in 12 rows)"),
        ("nan_score", "column 'risk' (score) has missing (NaN) values in 6 rows"),
        ("inf_score", "column 'risk' (score) has infinite values in 1 row"),
        ("single_class", "column 'y' (target) has a single class"),
        ("duplicated_id", "column 'id' (id) has 300 duplicated values"),
        ("empty", "the data is empty"),
    ],
)
def test_bad_input_exits_2_naming_the_column(data_dir: Path, name: str, expected: str) -> None:
    result = runner.invoke(app, ["evaluate", str(data_dir / f"{name}.csv"), "--target", "y",
                                 "--score", "risk", "--id", "id"])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())


def test_missing_column_exits_2(data_dir: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(data_dir / "good.csv"), "--target", "outcome",
                                 "--score", "risk"])
    assert result.exit_code == 2 and "'outcome' (target)" in result.output


def test_validate_exit_codes_and_outputs(data_dir: Path) -> None:
    paths = {k: data_dir / f"out.{k}" for k in ("json", "html", "junit")}
    result = runner.invoke(app, ["validate", str(data_dir / "plan.yaml"), "--data",
                                 str(data_dir / "good.csv"), "--json", str(paths["json"]),
                                 "--html", str(paths["html"]), "--junit", str(paths["junit"])])
    assert result.exit_code == 0, result.output
    assert "2 checks: 2 pass" in result.output
    run = Run.from_json(paths["json"])
    assert run.passed and len(run.results) == 2
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert "<testsuite" in paths["junit"].read_text()

    failing = runner.invoke(app, ["validate", str(data_dir / "strict.yaml"), "--data",
                                  str(data_dir / "good.csv")])
    assert failing.exit_code == 1 and "FAIL" in failing.output

    broken = runner.invoke(app, ["validate", str(data_dir / "broken.yaml"), "--data",
                                 str(data_dir / "good.csv")])
    assert broken.exit_code == 2 and "line 4, checks[0].cond: unknown field" in broken.output


def test_console_script_runs_end_to_end(data_dir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "from assay.cli import main; main()", "validate",
         str(data_dir / "plan.yaml"), "--data", str(data_dir / "non_binary.csv")],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 2
    assert "must contain only 0/1" in completed.stderr


def test_schema_and_metrics_commands() -> None:
    schema = runner.invoke(app, ["schema", "plan"])
    assert schema.exit_code == 0 and json.loads(schema.output)["title"] == "Assay plan"
    listing = runner.invoke(app, ["metrics"])
    assert listing.exit_code == 0
    assert "calibration_slope" in listing.output and "delong" in listing.output


def test_regression_and_multiclass_tasks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    y = rng.normal(size=n)
    pd.DataFrame({"y": y, "pred": y + rng.normal(scale=0.5, size=n)}).to_csv(
        tmp_path / "reg.csv", index=False)
    result = runner.invoke(app, ["evaluate", str(tmp_path / "reg.csv"), "--target", "y",
                                 "--score", "pred", "--task", "regression", "--n-boot", "200",
                                 "--json", str(tmp_path / "reg.json")])
    assert result.exit_code == 0, result.output
    records = {m["metric"]: m for m in json.loads((tmp_path / "reg.json").read_text())["metrics"]}
    assert set(records) == {"mae", "rmse", "r2", "calibration_in_the_large"}
    assert records["r2"]["ci_low"] < records["r2"]["value"] < records["r2"]["ci_high"]

    classes = rng.integers(0, 3, n)
    probabilities = rng.dirichlet([1, 1, 1], n)
    probabilities[np.arange(n), classes] += 1.0
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(probabilities, columns=["p_a", "p_b", "p_c"])
    frame.insert(0, "label", np.array(["a", "b", "c"])[classes])
    frame.to_csv(tmp_path / "mc.csv", index=False)
    arguments = ["evaluate", str(tmp_path / "mc.csv"), "--target", "label", "--task",
                 "multiclass", "--n-boot", "200", "--score", "p_a", "--score", "p_b"]
    too_few = runner.invoke(app, arguments)
    assert too_few.exit_code == 2 and "3 classes but 2 score columns" in too_few.output
    result = runner.invoke(app, [*arguments, "--score", "p_c", "--json", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    records = {m["metric"]: m for m in json.loads((tmp_path / "m.json").read_text())["metrics"]}
    assert records["multiclass_auroc_macro"]["score"] == "model"
    assert records["multiclass_auroc_macro"]["value"] > 0.8


def test_evaluate_by_group_carries_group_records_and_suppresses_small_cells(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(5)
    n = 800
    x = rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(-1 + 1.5 * x)))
    frame = pd.DataFrame({
        "y": (rng.random(n) < risk).astype(int), "risk": risk,
        "sex": np.where(np.arange(n) < 7, "X", np.where(np.arange(n) % 2, "F", "M")),
        "site": np.where(np.arange(n) % 3 == 0, "north", "south"),
    })
    frame.to_csv(tmp_path / "g.csv", index=False)
    out = tmp_path / "g.json"
    result = runner.invoke(app, ["evaluate", str(tmp_path / "g.csv"), "--target", "y",
                                 "--score", "risk", "--threshold", "0.3", "--n-boot", "200",
                                 "--group", "sex", "--group", "site*sex", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "risk by sex" in result.output and "suppressed" in result.output
    records = json.loads(out.read_text())["metrics"]
    overall = [r for r in records if r["group"] is None]
    by_sex = {r["group_value"]: r for r in records
              if r["group"] == "sex" and r["metric"] == "auroc"}
    assert set(by_sex) == {"F", "M", "X"} and len(overall) > 0
    assert by_sex["X"]["suppressed"] and by_sex["X"]["n"] == 7
    assert not by_sex["F"]["suppressed"] and by_sex["F"]["n"] == 397
    assert by_sex["F"]["ci_low"] < by_sex["F"]["value"] < by_sex["F"]["ci_high"]
    cells = {r["group_value"] for r in records
             if r["group"] == "site*sex" and r["metric"] == "auroc"}
    assert cells == {f"{site}*{sex}" for site in ("north", "south") for sex in ("F", "M", "X")}
    assert {r["group"] for r in records} == {None, "sex", "site*sex"}
    shared = tmp_path / "shared.json"
    result = runner.invoke(app, ["evaluate", str(tmp_path / "g.csv"), "--target", "y",
                                 "--score", "risk", "--n-boot", "200", "--group", "sex",
                                 "--for-distribution", "--json", str(shared)])
    assert result.exit_code == 0, result.output
    document = json.loads(shared.read_text())
    assert document["redacted"] is True
    hidden = [r for r in document["metrics"] if r["group_value"] == "X"]
    assert hidden and all(r["n"] is None and r["value"] is None and r["ci_low"] is None
                          and r["reason"] == "suppressed: fewer than 11 patients"
                          for r in hidden)
    kept = [r for r in document["metrics"] if r["group_value"] == "F" and r["metric"] == "auroc"]
    assert kept[0]["n"] == 397 and kept[0]["value"] == by_sex["F"]["value"]


def test_bad_input_messages_keep_their_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from assay.cli._errors import exits_2_on_bad_input
    from assay.errors import MissingExtraError

    @exits_2_on_bad_input
    def needs_pdf() -> None:
        raise MissingExtraError("pdf", "weasyprint")

    with pytest.raises(typer.Exit) as exited:
        needs_pdf()
    assert exited.value.exit_code == 2
    assert "pip install 'assay[pdf]'" in " ".join(capsys.readouterr().err.split())
