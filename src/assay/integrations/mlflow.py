"""MLflow: load models by MLflow URI, register product versions, log Runs.

Needs the ``mlflow`` extra (``pip install 'assay[mlflow]'``, which installs ``mlflow-skinny``).
Everything here talks to the tracking and registry URIs MLflow is configured with
(``MLFLOW_TRACKING_URI``, ``mlflow.set_tracking_uri``); nothing else is contacted.

* :func:`load_mlflow_model` turns ``models:/name/1``, ``runs:/id/model`` or any MLflow model URI
  into an :class:`assay.robustness.Model` for robustness and metamorphic checks.
* :func:`register_from_mlflow` records an MLflow model version as a product version in an
  Assay :class:`~assay.store.Store`.
* :func:`log_run_to_mlflow` logs a validation :class:`~assay.checks.Run` as an MLflow run:
  metrics with their interval bounds, check outcomes, parameters, tags, the HTML report and
  the Run JSON.
"""

from __future__ import annotations

from assay.errors import MissingExtraError as _MissingExtraError

try:
    import mlflow as _mlflow  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by tests/integrations
    raise _MissingExtraError("mlflow", "mlflow-skinny") from exc

from assay.integrations._mlflow import (
    REPORT_ARTIFACT,
    RUN_ARTIFACT,
    MlflowRegistration,
    load_mlflow_model,
    log_run_to_mlflow,
    register_from_mlflow,
)

__all__ = [
    "REPORT_ARTIFACT",
    "RUN_ARTIFACT",
    "MlflowRegistration",
    "load_mlflow_model",
    "log_run_to_mlflow",
    "register_from_mlflow",
]
