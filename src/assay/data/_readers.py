"""Turn what the user has (a file path, pandas, polars or Arrow table) into a pandas frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from assay.errors import InputError

TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(source: Any) -> tuple[pd.DataFrame, str]:
    """Return ``(frame, description)``; ``description`` names the source in messages.

    Accepts a path to a CSV or Parquet file, a folder of Parquet files, a pandas DataFrame, a
    polars DataFrame or LazyFrame, or a pyarrow Table.
    """
    if isinstance(source, pd.DataFrame):
        return source, "the DataFrame"
    if isinstance(source, (str, Path)):
        return _read_file(Path(source)), str(source)
    module = type(source).__module__.split(".")[0]
    if module == "polars":
        frame = source.collect() if hasattr(source, "collect") else source
        return frame.to_pandas(), "the polars DataFrame"
    if module == "pyarrow" and hasattr(source, "to_pandas"):
        return source.to_pandas(), "the Arrow table"
    raise InputError(
        f"cannot read data from a {type(source).__name__}: give a CSV or Parquet path, "
        "or a pandas, polars or Arrow table"
    )


def _read_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    kind = "parquet" if path.is_dir() else TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(TABLE_SUFFIXES))
        raise InputError(f"{path}: unsupported file type {path.suffix!r} (use {known})")
    try:
        if kind == "csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: could not be read as {kind}: {exc}") from exc
