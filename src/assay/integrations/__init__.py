"""Bridges to the tools around Assay; each lives in its own module and needs its extra.

* :mod:`assay.integrations.mlflow` (``pip install 'assay[mlflow]'``): load models by MLflow URI,
  register product versions from MLflow model versions, log Runs to MLflow.

Importing this package imports none of them, so it works without any extra.
"""

from __future__ import annotations

__all__: list[str] = []
