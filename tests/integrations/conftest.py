"""A real local MLflow: a SQLite tracking and registry store and artifacts under a temp folder.

No server and no network: the tracking URI is a ``sqlite:///`` file, telemetry is off, and the
working directory is the temp folder so that nothing MLflow writes by default lands in the repo.
One scikit-learn model is trained, logged and registered once per module (``readmit-risk`` v1);
the fixture is module-scoped so that the working directory and MLflow environment are restored
before other test modules run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

# MLflow's SQLAlchemy store configures its mappers with the ``noload`` strategy, which
# SQLAlchemy 2.1 deprecates: a third-party warning we cannot avoid. Every test module here
# that touches MLflow carries these two as ``pytestmark`` filters.
SQLALCHEMY_NOLOAD = "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning"
# Importing mlflow.pyfunc (log_model does) warns about MLflow's own GenAI type hints.
MLFLOW_ANY_TYPE_HINT = "ignore:.*Any type hint is inferred as AnyType:UserWarning"
MODEL_NAME = "readmit-risk"
FEATURES = ["age", "lactate", "prior_admissions"]


@dataclass(frozen=True)
class LocalMlflow:
    folder: Path
    tracking_uri: str
    experiment_id: str
    model: object
    cohort: pd.DataFrame
    run_id: str


def make_cohort(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(65, 12, n).round(0)
    lactate = np.exp(rng.normal(0.5, 0.4, n)).round(1)
    prior = rng.poisson(1.0, n).astype(np.float64)
    logit = -3.5 + 0.03 * (age - 65) + 0.8 * lactate + 0.4 * prior
    readmitted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": age, "lactate": lactate, "prior_admissions": prior,
                         "readmitted": readmitted})


@pytest.fixture(scope="module")
def local_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMlflow]:
    folder = tmp_path_factory.mktemp("mlflow")
    tracking_uri = f"sqlite:///{folder}/mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        patch.setenv("MLFLOW_REGISTRY_URI", tracking_uri)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setenv("DO_NOT_TRACK", "true")
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        for name in ("MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
            patch.delenv(name, raising=False)

        import mlflow
        import mlflow.sklearn
        from sklearn.linear_model import LogisticRegression

        cohort = make_cohort()
        model = LogisticRegression(max_iter=500).fit(cohort[FEATURES], cohort["readmitted"])
        client = mlflow.MlflowClient()
        experiment_id = client.create_experiment(
            "readmission", artifact_location=(folder / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment_id) as run:
            # cloudpickle, not MLflow 3's default skops: skops is not a dependency of ours
            mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL_NAME,
                                     serialization_format="cloudpickle")
        yield LocalMlflow(folder=folder, tracking_uri=tracking_uri,
                          experiment_id=experiment_id, model=model, cohort=cohort,
                          run_id=run.info.run_id)
