"""Evidently's data drift preset on the benchmark's Parquet files; prints one JSON object.

Run by ``bench/drift.py`` with the python of ``bench/.venv-evidently`` (Evidently pins an old
plotly, so it has a virtualenv of its own):
``python evidently_drift.py REFERENCE.parquet CURRENT.parquet``. Only ``report.run`` is timed
(reading the files is not). The preset keeps its defaults: above 1,000 rows, numeric columns
by the normalised Wasserstein distance and categorical ones by the Jensen-Shannon distance
(natural logarithm), each drifting at 0.1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DO_NOT_TRACK", "1")  # no usage telemetry
os.environ.setdefault("EVIDENTLY_DISABLE_TELEMETRY", "1")

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main(reference_path: str, current_path: str) -> dict[str, Any]:
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    numeric = [c for c in reference.columns if pd.api.types.is_float_dtype(reference[c])]
    categorical = [c for c in reference.columns if c not in numeric]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(current, data_definition=definition),
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
    )
    seconds = time.perf_counter() - start
    columns: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if config.get("type", "").endswith("ValueDrift") and column is not None:
            threshold = float(config["threshold"])
            value = float(metric["value"])
            columns[column] = {"method": config["method"], "statistic": value,
                               "threshold": threshold, "drifted": value >= threshold}
    return {"tool": "evidently", "version": evidently.__version__, "seconds": seconds,
            "rows": [len(reference), len(current)], "columns": columns}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
