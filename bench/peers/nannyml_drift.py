"""NannyML's univariate drift calculator on the benchmark's Parquet files; prints one JSON object.

Run by ``bench/drift.py`` with the python of ``bench/.venv-nannyml`` (NannyML pins an old
plotly, so it has a virtualenv of its own):
``python nannyml_drift.py REFERENCE.parquet CURRENT.parquet``. Only ``fit`` on the reference
and ``calculate`` on the current data are timed (reading the files is not).

Configured to meet Assay's methods where they coincide: the whole current sample is one chunk;
numeric columns by the Kolmogorov-Smirnov statistic and categorical ones by the Jensen-Shannon
distance (base 2, level proportions), each with a constant threshold of 0.1 (NannyML's default
thresholds come from the spread over reference chunks); categorical columns also by chi-square,
which NannyML decides by its p-value (< 0.05). KS keeps NannyML's default ``auto`` computation:
above 10,000 reference rows it reads the reference ECDF at 10,000 equal-width bins.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from typing import Any

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # no usage analytics

import nannyml
import pandas as pd
from nannyml.thresholds import ConstantThreshold

THRESHOLD = 0.1


def main(reference_path: str, current_path: str) -> dict[str, Any]:
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    numeric = [c for c in reference.columns if pd.api.types.is_float_dtype(reference[c])]
    categorical = [c for c in reference.columns if c not in numeric]
    calculator = nannyml.UnivariateDriftCalculator(
        column_names=list(reference.columns),
        treat_as_categorical=categorical,
        continuous_methods=["kolmogorov_smirnov"],
        categorical_methods=["jensen_shannon", "chi2"],
        chunk_number=1,
        thresholds={"kolmogorov_smirnov": ConstantThreshold(upper=THRESHOLD),
                    "jensen_shannon": ConstantThreshold(upper=THRESHOLD)},
    )
    # one chunk is the point here; NannyML warns that it is few
    warnings.filterwarnings("ignore", message="The resulting number of chunks is too low")
    warnings.filterwarnings("ignore", message="indexing past lexsort depth")
    start = time.perf_counter()
    calculator.fit(reference)
    result = calculator.calculate(current)
    seconds = time.perf_counter() - start
    frame = result.filter(period="analysis").to_df()
    columns: dict[str, Any] = {}
    for column in reference.columns:
        methods = ["kolmogorov_smirnov"] if column in numeric else ["jensen_shannon", "chi2"]
        for method in methods:
            row = frame[(column, method)].iloc[0]
            columns.setdefault(column, {})[method] = {
                "statistic": float(row["value"]), "drifted": bool(row["alert"]),
                "threshold": None if method == "chi2" else THRESHOLD}
    return {"tool": "nannyml", "version": nannyml.__version__, "seconds": seconds,
            "rows": [len(reference), len(current)], "columns": columns}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
