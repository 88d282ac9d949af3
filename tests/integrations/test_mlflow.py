"""assay.integrations.mlflow against a real local MLflow (SQLite tracking and registry store)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.data import Roles
from assay.errors import InputError
from assay.integrations._mlflow_keys import metric_key
from assay.robustness import Model
from tests.integrations.conftest import (
    FEATURES,
    MLFLOW_ANY_TYPE_HINT,
    MODEL_NAME,
    SQLALCHEMY_NOLOAD,
    LocalMlflow,
)

mlflow = pytest.importorskip("mlflow")

from assay.integrations.mlflow import (  # noqa: E402
    REPORT_ARTIFACT,
    RUN_ARTIFACT,
    MlflowRegistration,
    load_mlflow_model,
    log_run_to_mlflow,
    register_from_mlflow,
)

pytestmark = [pytest.mark.filterwarnings(SQLALCHEMY_NOLOAD),
              pytest.mark.filterwarnings(MLFLOW_ANY_TYPE_HINT)]

PLAN = Plan.model_validate({
    "name": "readmission-validation",
    "version": "2",
    "roles": {"target": "readmitted", "score": "risk"},
    "thresholds": {"operating": 0.3},
    "settings": {"n_boot": 200, "seed": 11},
    "checks": [
        {"metric": "auroc", "condition": "ci_low >= 0.6"},
        {"metric": "auroc", "id": "auroc-too-strict", "condition": "ci_low >= 0.99"},
        {"metric": "sensitivity", "threshold": "operating", "condition": "value >= 0.5"},
        {"metric": "brier", "condition": "value < 0.25"},
    ],
})


# -- loading ------------------------------------------------------------------------------------

def test_registered_model_predicts_the_same_risks(local_mlflow: LocalMlflow) -> None:
    model = load_mlflow_model(f"models:/{MODEL_NAME}/1")
    assert isinstance(model, Model)
    assert model.features == tuple(FEATURES)
    expected = local_mlflow.model.predict_proba(local_mlflow.cohort[FEATURES])[:, 1]  # type: ignore[attr-defined]
    risks = model.predict_risk(local_mlflow.cohort)  # extra column 'readmitted' is not passed
    np.testing.assert_array_equal(risks, expected)
    assert model.name == f"models:/{MODEL_NAME}/1"


def test_runs_uri_loads_the_same_model(local_mlflow: LocalMlflow) -> None:
    registered = mlflow.MlflowClient().get_model_version(MODEL_NAME, "1")
    model = load_mlflow_model(registered.source, name="from-source")
    expected = local_mlflow.model.predict_proba(local_mlflow.cohort[FEATURES])[:, 1]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(model.predict_risk(local_mlflow.cohort), expected)


def lactate_over_ten(model_input: pd.DataFrame) -> pd.DataFrame:
    """A pyfunc's predict that returns one probability column: lactate / 10, capped at 1."""
    return pd.DataFrame({"risk": np.minimum(model_input["lactate"] / 10, 1.0)})


def test_pyfunc_returning_probabilities_is_adapted(local_mlflow: LocalMlflow,
                                                   tmp_path: Path) -> None:
    from mlflow.pyfunc import save_model
    from mlflow.pyfunc.model import PythonModel

    class LactateModel(PythonModel):
        def predict(self, context: object, model_input: pd.DataFrame,
                    params: dict[str, object] | None = None) -> pd.DataFrame:
            return lactate_over_ten(model_input)

    path = tmp_path / "lactate-model"
    # pip_requirements given: MLflow does not infer them by loading the model in a subprocess
    save_model(path, python_model=LactateModel(), pip_requirements=["pandas"])
    model = load_mlflow_model(str(path), features=["lactate"])
    frame = pd.DataFrame({"lactate": [1.0, 4.5, 12.0], "age": [50.0, 60.0, 70.0]})
    assert model.predict_risk(frame).tolist() == [0.1, 0.45, 1.0]


def test_missing_model_is_an_input_error_naming_the_uri(local_mlflow: LocalMlflow) -> None:
    with pytest.raises(InputError, match=r"MLflow model 'models:/no-such-model/1' cannot be "):
        load_mlflow_model("models:/no-such-model/1")
    with pytest.raises(InputError, match=f"models:/{MODEL_NAME}/7"):
        load_mlflow_model(f"models:/{MODEL_NAME}/7")


def test_a_package_the_model_needs_is_named(local_mlflow: LocalMlflow, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow 3 saves scikit-learn models with skops by default; when skops cannot be
    imported the load fails and the message says which module is missing."""
    import yaml

    path = tmp_path / "skops-model"
    sklearn_flavor = importlib.import_module("mlflow.sklearn")
    sklearn_flavor.save_model(local_mlflow.model, path, serialization_format="cloudpickle")
    spec = yaml.safe_load((path / "MLmodel").read_text())
    spec["flavors"]["sklearn"]["serialization_format"] = "skops"
    (path / "MLmodel").write_text(yaml.safe_dump(spec))
    for module in ("skops", "skops.io"):
        monkeypatch.setitem(sys.modules, module, None)  # as if skops were not installed
    with pytest.raises(InputError, match=r"skops-model' cannot be loaded: "
                                         r"ModuleNotFoundError: .*skops"):
        load_mlflow_model(str(path))


def test_a_model_saved_in_the_default_skops_format_loads(local_mlflow: LocalMlflow,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "default-format"
    importlib.import_module("mlflow.sklearn").save_model(local_mlflow.model, path)
    model = load_mlflow_model(str(path))
    frame = local_mlflow.cohort[FEATURES]
    expected = local_mlflow.model.predict_proba(frame)[:, 1]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(model.predict_risk(frame), expected)


# -- registering --------------------------------------------------------------------------------

def test_register_creates_product_and_version(local_mlflow: LocalMlflow, tmp_path: Path) -> None:
    from assay.store import Store

    store = Store.open(f"sqlite:///{tmp_path}/assay.db")
    try:
        first = register_from_mlflow(store, "readmission", MODEL_NAME, 1, actor="ana")
        assert isinstance(first, MlflowRegistration)
        assert first.created_product
        assert first.product.name == "readmission"
        assert first.version.product_id == first.product.id
        assert first.version.version == "1"
        assert first.version.artifact_uri == f"models:/{MODEL_NAME}/1" == first.model_uri
        assert first.run_id == local_mlflow.run_id
        assert first.source is not None and first.source.startswith("models:/m-")
        assert store.product("readmission").id == first.product.id
        actions = [event.action for event in store.audit_events()]
        assert actions.count("product.created") == 1
        assert store.verify_audit().ok
        from assay.governance import Registry

        fields = Registry(store).version_fields("readmission", "1")
        assert fields["mlflow_model_name"] == MODEL_NAME
        assert fields["mlflow_run_id"] == first.run_id and fields["mlflow_source"]
        # the stored reference loads the model, also through assay.robustness.load_model
        from assay.robustness import load_model

        assert load_model(first.model_uri).features == tuple(FEATURES)
        loaded = load_mlflow_model(first.version.artifact_uri or "")
        assert loaded.predict_risk(local_mlflow.cohort).shape == (len(local_mlflow.cohort),)
        with pytest.raises(InputError, match="already"):
            register_from_mlflow(store, "readmission", MODEL_NAME, "1", actor="ana")
    finally:
        store.close()


def test_register_an_existing_product_and_a_missing_version(local_mlflow: LocalMlflow,
                                                            tmp_path: Path) -> None:
    from assay.store import Store

    store = Store.open(f"sqlite:///{tmp_path}/assay.db")
    try:
        product = store.create_product("readmission", actor="ana")
        registered = register_from_mlflow(store, "readmission", MODEL_NAME, "1", actor="ben")
        assert not registered.created_product and registered.product.id == product.id
        with pytest.raises(InputError, match=rf"{MODEL_NAME}.*'9'"):
            register_from_mlflow(store, "readmission", MODEL_NAME, 9, actor="ben")
    finally:
        store.close()


# -- logging a Run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def assay_run(local_mlflow: LocalMlflow) -> Run:
    cohort = local_mlflow.cohort.assign(
        risk=local_mlflow.model.predict_proba(local_mlflow.cohort[FEATURES])[:, 1])  # type: ignore[attr-defined]
    return validate(PLAN, cohort, roles=Roles(target="readmitted", score="risk"))


def test_logged_metrics_equal_the_run(local_mlflow: LocalMlflow, assay_run: Run) -> None:
    run_id = log_run_to_mlflow(assay_run, experiment="assay-validation")
    client = mlflow.MlflowClient()
    logged = client.get_run(run_id)
    metrics = logged.data.metrics
    records = [r for r in assay_run.overall_metrics if r.value is not None]
    assert records
    for record in records:
        key = f"{record.score}.{record.metric}"
        if record.threshold is not None:
            key += f"_at_{record.threshold:g}"
        assert metrics[key] == record.value
        if record.ci_low is not None:
            assert metrics[f"{key}.ci_low"] == record.ci_low
            assert metrics[f"{key}.ci_high"] == record.ci_high
        assert metrics[f"{key}.n"] == record.n
    auroc = assay_run.metric("auroc")
    assert metrics["risk.auroc"] == auroc.value and auroc.ci_low is not None
    assert metrics["risk.sensitivity_at_0.3"] == assay_run.metric("sensitivity").value
    statuses = {r.id: r.status for r in assay_run.results}
    assert statuses["auroc-too-strict"] == "fail"
    for check_id, status in statuses.items():
        key = metric_key(f"check.{check_id}.passed")
        assert metrics[key] == (1.0 if status in ("pass", "warn") else 0.0)
    assert "check.sensitivity_at_operating.passed" in metrics
    assert metrics["assay.passed"] == 0.0
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "readmission-validation v2"
    experiment = client.get_experiment(logged.info.experiment_id)
    assert experiment.name == "assay-validation"


def test_logged_params_tags_and_artifacts(local_mlflow: LocalMlflow, assay_run: Run,
                                          tmp_path: Path) -> None:
    run_id = log_run_to_mlflow(assay_run, run_name="nightly")  # the default experiment
    client = mlflow.MlflowClient()
    logged = client.get_run(run_id)
    params, tags = logged.data.params, logged.data.tags
    assert params["assay.plan.name"] == "readmission-validation"
    assert params["assay.plan.version"] == "2"
    assert params["assay.plan.fingerprint"] == assay_run.plan_fingerprint
    assert params["assay.data.fingerprint"] == assay_run.data.fingerprint
    assert params["assay.seed"] == "11" and params["assay.level"] == "0.95"
    assert params["assay.status"] == "fail"
    assert params["assay.checks.fail"] == str(assay_run.counts["fail"]) != "0"
    assert params["assay.data.n"] == "400"
    assert params["assay.threshold.operating"] == "0.3"
    assert tags["assay.version"] == assay_run.assay_version
    assert tags["assay.status"] == "fail"
    assert tags["assay.check.auroc-too-strict"] == "fail"
    assert logged.info.run_name == "nightly"
    assert logged.info.experiment_id == "0"
    names = {a.path for a in client.list_artifacts(run_id, "assay")}
    assert names == {REPORT_ARTIFACT, RUN_ARTIFACT}
    folder = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="assay",
                                                      dst_path=str(tmp_path)))
    assert Run.from_json(folder / "run.json") == assay_run
    assert (folder / "report.html").read_text(encoding="utf-8") == assay_run.to_html()


def test_inside_an_active_run_the_log_is_a_child(local_mlflow: LocalMlflow,
                                                 assay_run: Run) -> None:
    with mlflow.start_run(experiment_id=local_mlflow.experiment_id) as parent:
        run_id = log_run_to_mlflow(assay_run, html=False)
    logged = mlflow.MlflowClient().get_run(run_id)
    assert logged.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert logged.info.experiment_id == local_mlflow.experiment_id
    names = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "assay")}
    assert names == {RUN_ARTIFACT}
    assert json.loads(Path(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=RUN_ARTIFACT)).read_text())["seed"] == assay_run.seed
