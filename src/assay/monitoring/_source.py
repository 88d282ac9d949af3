"""Reading a monitor's rows: a file (CSV, Parquet, JSON Lines), a folder of Parquet files, or a SQL
query."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from assay.data import read_table
from assay.errors import InputError
from assay.monitoring._spec import SourceSpec, resolve_path

__all__ = ["parse_times", "read_rows", "read_source", "rows_before"]

_JSON_LINES = (".jsonl", ".ndjson")


def read_source(source: SourceSpec, base: Path | None) -> tuple[pd.DataFrame, str]:
    """All rows of ``source`` and its description; ``base`` resolves relative paths."""
    if source.path is not None:
        path = resolve_path(source.path, base)
        if path.suffix.lower() in _JSON_LINES:
            return _read_json_lines(path), str(path)
        return read_table(path)
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    url = source.url
    if source.url_env is not None:
        url = os.environ.get(source.url_env)
        if not url:
            raise InputError(f"environment variable {source.url_env} (the source's database "
                             "URL) is not set")
    assert url is not None and source.sql is not None
    described = source.describe(base)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return pd.read_sql(text(source.sql), connection), described
    except SQLAlchemyError as exc:
        raise InputError(f"{described}: {str(getattr(exc, 'orig', exc)).strip()}") from exc
    finally:
        engine.dispose()


def _read_json_lines(path: Path) -> pd.DataFrame:
    """One row per JSON object of a JSON Lines file, values as written (no type guessing)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    except ValueError as exc:
        raise InputError(f"{path}: not JSON Lines (one JSON object per line): {exc}") from exc


def read_rows(source: SourceSpec, base: Path | None, *, time: str,
              until: datetime) -> tuple[pd.DataFrame, str]:
    """Rows whose ``time`` is before ``until``, the time column parsed to UTC."""
    frame, described = read_source(source, base)
    return rows_before(frame, described, time=time, until=until), described


def rows_before(frame: pd.DataFrame, described: str, *, time: str,
                until: datetime) -> pd.DataFrame:
    """Rows of ``frame`` whose ``time`` is before ``until``, sorted by time, times in UTC."""
    if time not in frame.columns:
        raise InputError(f"{described}: no time column {time!r}")
    times = parse_times(frame[time], f"{described}, column {time!r}")
    if times.isna().any():
        raise InputError(f"{described}, column {time!r}: {int(times.isna().sum())} row(s) "
                         "have no time")
    frame = frame.assign(**{time: times})
    return frame[times < until].sort_values(time, kind="stable").reset_index(drop=True)


def parse_times(values: pd.Series, described: str) -> pd.Series:
    """``values`` as UTC times; ISO 8601 texts may mix forms (with and without fractions of a
    second, as Python writes them), which pandas' inferred format would refuse."""
    try:
        return pd.to_datetime(values, utc=True)
    except (ValueError, TypeError) as first:
        try:
            return pd.to_datetime(values, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise InputError(f"{described}: not readable as times: {first}") from first
