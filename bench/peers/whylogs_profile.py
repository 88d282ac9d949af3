"""whylogs' standard profile of the benchmark's Parquet file; prints one JSON object.

Run by ``bench/profile.py`` with the python of ``bench/.venv-whylogs`` (whylogs 1.6 needs
numpy < 2, so it has a virtualenv of its own): ``python whylogs_profile.py DATA.parquet``.
Only ``why.log(pandas=frame)`` is timed (reading the file is not): its default schema, which
gives every column counts, types, a KLL distribution sketch, an HLL cardinality sketch and a
frequent-items sketch. The peak resident set of the call is the kernel's high-water mark,
reset after reading the file, less the resident set holding the frame.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # no usage telemetry

import pandas as pd
import whylogs
import whylogs as why


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def main(path: str) -> dict[str, Any]:
    frame = pd.read_parquet(path)
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    base = _status_mb("VmRSS")
    start = time.perf_counter()
    results = why.log(pandas=frame)
    seconds = time.perf_counter() - start
    peak = _status_mb("VmHWM") - base
    summary = results.view().to_pandas()
    columns: dict[str, Any] = {}
    for column, row in summary.iterrows():
        columns[str(column)] = {"n": int(row["counts/n"]), "missing": int(row["counts/null"]),
                                "distinct": float(row["cardinality/est"])}
    return {"tool": "whylogs", "version": whylogs.__version__, "seconds": seconds,
            "rows": len(frame), "base_rss_mb": base, "peak_rss_mb": peak, "columns": columns}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
