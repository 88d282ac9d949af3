"""The end-to-end demo: a synthetic cohort, a model trained on early months, a validation plan
run on later months, the governance walk, a year of monitoring, and the reports written to a
folder."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from assay._demo_extract import FAHRENHEIT_FROM, warehouse_extract
from assay._demo_genai import compare_summarisers
from assay._demo_governance import PRODUCT, VERSION, walk_governance
from assay._demo_monitoring import replay_year
from assay.checks import Plan, Run, validate
from assay.curation import build_cohort
from assay.datasets import make_inpatient_cohort
from assay.errors import MissingExtraError
from assay.robustness import as_model

TRAINING_MONTHS = 6
NUMERIC = [
    "age", "heart_rate_bpm", "sbp_mmhg", "temp_c", "resp_rate_bpm", "spo2_pct",
    "sodium_mmol_l", "creatinine_mg_dl", "hemoglobin_g_dl", "wbc_k_ul", "glucose_mg_dl",
    "lactate_mmol_l", "albumin_g_dl", "prior_admissions_12m", "length_of_stay_days",
    "charlson_index", "n_medications",
]
CATEGORICAL = ["admission_type", "discharge_disposition", "payer"]


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo produced: the Run, the files written and the story to print."""

    run: Run
    files: dict[str, Path]
    story: list[str]


def example_plan_path() -> Path:
    """The shipped example plan (a 30-day readmission local validation protocol)."""
    return Path(str(files("assay") / "examples" / "readmission-validation.yaml"))


def run_demo(out: str | Path, *, n_encounters: int = 20_000, seed: int = 7) -> DemoOutcome:
    """Generate a cohort, train on the first months, validate on the rest, write reports."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cohort = make_inpatient_cohort(n_encounters, seed=seed)
    cutoff = cohort["discharged_at"].min().normalize() + pd.DateOffset(months=TRAINING_MONTHS)
    training = cohort[cohort["discharged_at"] < cutoff]
    extract = warehouse_extract(cohort[cohort["discharged_at"] >= cutoff], seed)
    validation = extract.frame

    current, challenger = _train(training, seed)
    features = NUMERIC + CATEGORICAL
    validation["risk"] = current.predict_proba(validation[features])[:, 1]
    validation["challenger_risk"] = challenger.predict_proba(validation[features])[:, 1]
    keep = ["encounter_id", "patient_id", "admitted_at", "discharged_at", "readmit_30d", "risk",
            "challenger_risk", *features, "sex", "race_ethnicity", "language"]
    extract_path = out / "extract.parquet"
    validation[keep].to_parquet(extract_path, index=False)
    model_path = out / "model.joblib"
    _save(current, model_path)

    plan = Plan.load(example_plan_path())
    run = validate(plan, extract_path, model=as_model(current, name=model_path.name))
    # the rows the run measured, for the tour's commands and the monitor's reference
    assert plan.cohort is not None
    data_path = out / "validation.parquet"
    build_cohort(validation[keep], plan.cohort).frame.to_parquet(data_path, index=False)
    quality = sum(r.kind == "quality" for r in run.results)
    written = {"json": out / "run.json", "html": out / "report.html", "junit": out / "junit.xml",
               "model": model_path, "extract": extract_path, "validation": data_path}
    run.to_json(written["json"])
    run.to_html(written["html"])
    run.to_junit(written["junit"])
    governance = walk_governance(out, run, str(model_path))
    written.update(governance.files)
    monitoring = replay_year(out, current, features, product=PRODUCT, version=VERSION,
                             seed=seed)
    written.update(monitoring.files)
    genai = compare_summarisers(out, seed=seed)
    written.update(genai.files)
    story = [
        f"Trained a logistic regression (current model) and a gradient-boosting challenger on "
        f"{len(training):,} encounters discharged before {cutoff:%Y-%m-%d}.",
        f"Extracted {len(validation):,} later encounters (pulled {extract.pulled_on:%Y-%m-%d}, "
        f"with {extract.added['resent']} sent twice, {extract.added['heart_rate_999']} heart "
        f"rates of 999 and {extract.added['fahrenheit']} temperatures in °F from "
        f"{FAHRENHEIT_FROM}); the plan's cohort kept {run.data.n:,} "
        f"({run.data.n_events:,} readmissions).",
        f"Validated with the plan '{plan.name}': {quality} data checks on the cohort, then "
        f"{len(plan.checks)} checks of the model.",
        f"The extract: {extract_path}; the cohort validated: {data_path}; the current "
        f"model: {model_path}",
        *governance.story,
        *monitoring.story,
        *genai.story,
    ]
    return DemoOutcome(run=run, files=written, story=story)


def _save(model: Any, path: Path) -> None:
    """Write the fitted model for ``assay validate --model``."""
    import joblib  # installed with scikit-learn

    joblib.dump(model, path)


def _train(training: pd.DataFrame, seed: int) -> tuple[Any, Any]:
    try:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
    except ImportError as exc:
        raise MissingExtraError("demo", "scikit-learn") from exc
    X, y = training[NUMERIC + CATEGORICAL], training["readmit_30d"]
    prepare = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
    ])
    current = make_pipeline(prepare, LogisticRegression(max_iter=2000)).fit(X, y)
    encode = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
          CATEGORICAL)], remainder="passthrough")
    challenger = make_pipeline(
        encode, HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                               random_state=seed),
    ).fit(X, y)
    return current, challenger
