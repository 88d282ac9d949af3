"""The MLflow bridge's implementation; import it from :mod:`assay.integrations.mlflow`."""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mlflow
import mlflow.models
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from assay.errors import InputError
from assay.integrations._mlflow_keys import check_passed, metric_key, unique_keys
from assay.robustness import Model, as_model

if TYPE_CHECKING:
    from assay.checks import Run
    from assay.store import Product, ProductVersion, Store

__all__ = [
    "REPORT_ARTIFACT",
    "RUN_ARTIFACT",
    "MlflowRegistration",
    "load_mlflow_model",
    "log_run_to_mlflow",
    "register_from_mlflow",
]

log = logging.getLogger(__name__)

_LOAD_ERRORS = (MlflowException, OSError, ImportError, ValueError, KeyError, AttributeError,
                EOFError, pickle.UnpicklingError)
_MAX_PARAM_LENGTH = 6000
_BATCH_METRICS = 1000
_BATCH_PARAMS = 100
_BATCH_TAGS = 100
REPORT_ARTIFACT = "assay/report.html"
"""Where :func:`log_run_to_mlflow` puts the HTML report in the MLflow run's artifacts."""
RUN_ARTIFACT = "assay/run.json"
"""Where :func:`log_run_to_mlflow` puts the Run JSON (reload with ``Run.from_json``)."""


@dataclass(frozen=True)
class MlflowRegistration:
    """What :func:`register_from_mlflow` recorded, and where it came from in MLflow.

    Attributes
    ----------
    product
        The Assay product (created when it was not registered yet).
    version
        The new product version; its ``artifact_uri`` is ``model_uri``.
    created_product
        True when this call registered the product.
    model_uri
        ``models:/{model_name}/{model_version}``: what :func:`load_mlflow_model` loads.
    model_name, model_version
        The MLflow registered model and version.
    run_id
        The MLflow run that produced the model (None when the version names none).
    source
        Where MLflow says the model's files are (``models:/m-…``, ``runs:/…``, a path).
    """

    product: Product
    version: ProductVersion
    created_product: bool
    model_uri: str
    model_name: str
    model_version: str
    run_id: str | None
    source: str | None


def load_mlflow_model(
    model_uri: str,
    *,
    features: Sequence[str] | None = None,
    positive_class: Any = 1,
    name: str | None = None,
) -> Model:
    """Load an MLflow model as an :class:`assay.robustness.Model`.

    A model with the ``sklearn`` flavor is loaded with ``mlflow.sklearn.load_model``, so its
    ``predict_proba`` gives the risk (the column of ``positive_class``). Any other model is
    loaded as a pyfunc, whose ``predict`` must return probabilities: one per row, or two
    columns (negative, positive). A pyfunc that returns class labels cannot be told apart
    from one returning probabilities of exactly 0 and 1; give it a probability output.

    Parameters
    ----------
    model_uri
        Any MLflow model URI: ``models:/readmit/3``, ``models:/readmit@champion``,
        ``runs:/<run id>/model``, a local folder holding an ``MLmodel`` file.
    features
        Columns passed to the model, in order. Default: the scikit-learn model's
        ``feature_names_in_``, else the input names of the model signature, else every column.
    positive_class
        The class whose probability is the risk (``sklearn`` flavor).
    name
        How messages name the model; default ``model_uri``.

    Returns
    -------
    assay.robustness.Model

    Raises
    ------
    InputError
        When MLflow cannot find or load the model (the message names the URI and the cause,
        e.g. a package the model needs), or a pyfunc model has an output Assay cannot use.

    Examples
    --------
    With ``MLFLOW_TRACKING_URI`` pointing at the registry (see ``docs/mlflow.md``)::

        model = load_mlflow_model("models:/readmit-risk/1")
        model.predict_risk(cohort)          # array([0.1336, 0.1522, 0.072 , ...])
    """
    label = name or model_uri
    pyfunc_flavor = _import_pyfunc()
    try:
        info = mlflow.models.get_model_info(model_uri)
        if "sklearn" in info.flavors:
            sklearn_flavor = importlib.import_module("mlflow.sklearn")
            estimator = sklearn_flavor.load_model(model_uri)
            return as_model(estimator, features=features, positive_class=positive_class,
                            name=label)
        pyfunc = pyfunc_flavor.load_model(model_uri)
    except _LOAD_ERRORS as exc:
        raise InputError(f"MLflow model {model_uri!r} cannot be loaded: "
                         f"{type(exc).__name__}: {exc}") from exc
    chosen = features if features is not None else _signature_inputs(pyfunc)

    def predict(frame: pd.DataFrame) -> Any:
        try:
            output = pyfunc.predict(frame)
        except MlflowException as exc:  # schema enforcement: a column missing or mistyped
            raise InputError(str(exc)) from exc
        return _as_risk_array(output)

    return as_model(predict, features=chosen, name=label)


def _import_pyfunc() -> Any:
    """``mlflow.pyfunc``, imported on first use: importing it costs time and, in MLflow 3,
    warns about its own GenAI type hints ("Any type hint is inferred as AnyType"), which
    says nothing about the user's model; that one warning is silenced, no other."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Any type hint is inferred as AnyType",
                                category=UserWarning)
        return importlib.import_module("mlflow.pyfunc")


def _signature_inputs(pyfunc: Any) -> list[str] | None:
    schema = pyfunc.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return None
    names: list[str] = schema.input_names()
    return names or None


def _as_risk_array(output: Any) -> Any:
    """A pyfunc's output as an array; a one-column table becomes one value per row."""
    if isinstance(output, pd.DataFrame | pd.Series):
        output = output.to_numpy()
    array = np.asarray(output)
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


def register_from_mlflow(
    store: Store,
    product: str,
    model_name: str,
    version: str | int,
    *,
    actor: str,
) -> MlflowRegistration:
    """Register an MLflow model version as a version of an Assay product.

    Reads the version from the MLflow model registry, registers ``product`` in ``store`` when
    it is not there yet, and creates the product version ``version`` whose artifact reference
    is ``models:/{model_name}/{version}``. Each write leaves an audit event by ``actor``.

    Parameters
    ----------
    store
        An open :class:`assay.store.Store`.
    product
        The Assay product name.
    model_name, version
        The MLflow registered model and its version number.
    actor
        Who registers it, for the audit trail.

    Returns
    -------
    MlflowRegistration
        The product, the product version, and the MLflow run id and source.

    Raises
    ------
    InputError
        When the MLflow model version does not exist, failed to register, or the registry
        cannot be read, or the product already has this version.
    """
    version_text = str(version).strip()
    try:
        found = MlflowClient().get_model_version(model_name, version_text)
    except MlflowException as exc:
        raise InputError(f"MLflow model version {model_name!r} version {version_text!r} "
                         f"cannot be read from the registry: {exc.message}") from exc
    if found.status == "FAILED_REGISTRATION":
        raise InputError(f"MLflow model version {model_name!r} version {version_text!r} failed "
                         f"to register in MLflow ({found.status_message or 'no reason given'})")
    created_product = False
    try:
        registered = store.product(product)
    except InputError:
        registered = store.create_product(product, actor=actor)
        created_product = True
    model_uri = f"models:/{model_name}/{found.version}"
    from assay.governance import Registry  # the provenance goes into the version's fields

    provenance = {"mlflow_model_name": model_name, "mlflow_run_id": found.run_id or "",
                  "mlflow_source": found.source or ""}
    Registry(store).add_version(product, str(found.version), actor=actor,
                                artifact_uri=model_uri, **provenance)
    product_version = store.version(registered.id, str(found.version))
    log.info("registered %s as version %s of product %r", model_uri, found.version, product)
    return MlflowRegistration(
        product=registered,
        version=product_version,
        created_product=created_product,
        model_uri=model_uri,
        model_name=model_name,
        model_version=str(found.version),
        run_id=found.run_id or None,
        source=found.source or None,
    )


def log_run_to_mlflow(
    run: Run,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    html: bool = True,
) -> str:
    """Log a validation Run to MLflow as a new MLflow run; returns its run id.

    What is logged (keys are sanitised to the characters MLflow allows, see the docs page):

    * metrics, for every overall metric record with a value:
      ``{score}.{metric}`` (``{score}.{metric}_at_{threshold}`` for metrics at a threshold),
      with ``.ci_low``, ``.ci_high`` (when the record has an interval) and ``.n``;
    * one metric per check, ``check.{id}.passed``: 1 for ``pass`` and ``warn``, 0 for
      ``fail`` and ``error``; a ``skipped`` check has none. ``assay.passed`` is the gate
      (1 when no check failed or errored);
    * params: plan name, version and fingerprint, data source, fingerprint, ``n`` and
      events, seed, interval level, named thresholds, status and check counts;
    * tags: ``assay.version``, ``assay.status``, ``assay.redacted`` and each check's status
      as ``assay.check.{id}``;
    * artifacts: ``assay/report.html`` (``run.to_html()``) and ``assay/run.json``.

    The MLflow run ends ``FINISHED`` whatever the checks say (the status is in the tags);
    it ends ``FAILED`` only when logging itself failed. Inside an active MLflow run, the new
    run is its child.

    Parameters
    ----------
    run
        The Assay Run to log.
    experiment
        The MLflow experiment name; created when missing. Default: ``MLFLOW_EXPERIMENT_NAME``
        or ``MLFLOW_EXPERIMENT_ID`` when set, else the active run's, else MLflow's default.
    run_name
        Default ``"{plan name} v{plan version}"``.
    html
        Log the HTML report (needs the ``report`` extra).

    Returns
    -------
    str
        The MLflow run id.
    """
    client = MlflowClient()
    parent = mlflow.active_run()
    experiment_id = _experiment_id(client, experiment, parent)
    tags = {"assay.version": run.assay_version, "assay.status": run.status,
            "assay.redacted": str(run.redacted).lower()}
    if parent is not None:
        tags["mlflow.parentRunId"] = parent.info.run_id
    started_ms = (int(run.started_at.timestamp() * 1000) if run.started_at is not None
                  else None)
    created = client.create_run(experiment_id, start_time=started_ms,
                                run_name=run_name or f"{run.plan.name} v{run.plan.version}")
    run_id: str = created.info.run_id
    try:
        timestamp = started_ms if started_ms is not None else created.info.start_time
        metrics = [Metric(key, value, timestamp, 0) for key, value in _metrics(run).items()]
        params = [Param(key, value) for key, value in _params(run).items()]
        tag_list = [RunTag(key, value) for key, value in {**tags, **_check_tags(run)}.items()]
        for start in range(0, len(metrics), _BATCH_METRICS):
            client.log_batch(run_id, metrics=metrics[start:start + _BATCH_METRICS])
        for start in range(0, len(params), _BATCH_PARAMS):
            client.log_batch(run_id, params=params[start:start + _BATCH_PARAMS])
        for start in range(0, len(tag_list), _BATCH_TAGS):
            client.log_batch(run_id, tags=tag_list[start:start + _BATCH_TAGS])
        if html:
            client.log_text(run_id, run.to_html(), REPORT_ARTIFACT)
        client.log_text(run_id, run.to_json(), RUN_ARTIFACT)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    log.info("logged run of plan %r to MLflow run %s", run.plan.name, run_id)
    return run_id


def _experiment_id(client: MlflowClient, name: str | None, parent: Any) -> str:
    if name is None:
        if parent is not None:
            return str(parent.info.experiment_id)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if not name:
            return os.environ.get("MLFLOW_EXPERIMENT_ID") or "0"
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name))


def _metrics(run: Run) -> dict[str, float]:
    named: list[tuple[str, float]] = []
    for record in run.overall_metrics:
        if record.value is None:
            continue
        base = f"{record.score}.{record.metric}"
        if record.threshold is not None:
            base += f"@{record.threshold:g}"
        named.append((base, record.value))
        for suffix, value in (("ci_low", record.ci_low), ("ci_high", record.ci_high),
                              ("n", record.n)):
            if value is not None:
                named.append((f"{base}.{suffix}", float(value)))
    for result in run.results:
        passed = check_passed(result.status)
        if passed is not None:
            named.append((f"check.{result.id}.passed", passed))
    named.append(("assay.passed", float(run.passed)))
    return unique_keys([(metric_key(key), value) for key, value in named])


def _params(run: Run) -> dict[str, str]:
    values: dict[str, object] = {
        "assay.plan.name": run.plan.name,
        "assay.plan.version": run.plan.version,
        "assay.plan.fingerprint": run.plan_fingerprint,
        "assay.data.source": run.data.source,
        "assay.data.fingerprint": run.data.fingerprint,
        "assay.data.n": run.data.n,
        "assay.data.n_events": run.data.n_events,
        "assay.seed": run.seed,
        "assay.level": run.level,
        "assay.status": run.status,
    }
    for status, count in run.counts.items():
        values[f"assay.checks.{status}"] = count
    for threshold, value in run.thresholds.items():
        values[f"assay.threshold.{threshold}"] = f"{value:g}"
    named = [(metric_key(key), _param_text(value)) for key, value in values.items()]
    return unique_keys(named)


def _param_text(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > _MAX_PARAM_LENGTH:
        return text[:_MAX_PARAM_LENGTH - 1] + "…"
    return text


def _check_tags(run: Run) -> dict[str, str]:
    return unique_keys([(metric_key(f"assay.check.{result.id}"), result.status)
                        for result in run.results])
