from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from assay.data import Dataset, Roles
from assay.errors import InputError

ROLES = Roles(target="y", score="risk", id="encounter_id")


def frame(**changes: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "encounter_id": ["E1", "E2", "E3", "E4", "E5"],
        "y": [0, 1, 0, 1, 0],
        "risk": [0.1, 0.8, 0.3, 0.6, 0.2],
        "lactate": [1.1, 4.2, 0.9, 2.5, 1.4],
    }
    base.update(changes)
    return pd.DataFrame(base)


def error_of(data: object, roles: Roles = ROLES) -> str:
    with pytest.raises(InputError) as caught:
        Dataset(data, roles)
    return str(caught.value)


def test_reads_every_container_to_the_same_arrays(tmp_path):
    pandas_frame = frame()
    pandas_frame.to_csv(tmp_path / "cohort.csv", index=False)
    pandas_frame.to_parquet(tmp_path / "cohort.parquet", index=False)
    sources = [pandas_frame, pl.from_pandas(pandas_frame), pa.Table.from_pandas(pandas_frame),
               tmp_path / "cohort.csv", str(tmp_path / "cohort.parquet")]
    for source in sources:
        data = Dataset(source, ROLES)
        np.testing.assert_array_equal(data.y, [0, 1, 0, 1, 0])
        np.testing.assert_allclose(data.score, [0.1, 0.8, 0.3, 0.6, 0.2])
        assert (data.n, data.n_events) == (5, 2)
    assert Dataset(tmp_path / "cohort.csv", ROLES).fingerprint == Dataset(
        tmp_path / "cohort.parquet", ROLES).fingerprint


def test_non_binary_target_names_column_and_counts_rows():
    message = error_of(frame(y=[0, 1, 2, 1, 2]))
    assert "column 'y' (target) must contain only 0/1 (found 2 in 2 rows)" in message


def test_nan_and_inf_in_score_are_counted():
    message = error_of(frame(risk=[0.1, np.nan, np.inf, np.nan, 0.2]))
    assert "column 'risk' (score)" in message
    assert "missing (NaN) values in 2 rows" in message and "infinite values in 1 row" in message


def test_missing_target_values_are_reported():
    assert "column 'y' (target) has missing (NaN) values in 1 row" in error_of(
        frame(y=[0, 1, None, 1, 0]))


def test_empty_data():
    assert "the data is empty (0 rows)" in error_of(frame().iloc[:0])


def test_single_class():
    message = error_of(frame(y=[0, 0, 0, 0, 0]))
    assert "column 'y' (target) has a single class (all 0 in 5 rows)" in message


def test_missing_columns_name_their_role():
    message = error_of(frame(), Roles(target="readmit", score=["risk", "new_risk"]))
    assert "'readmit' (target)" in message and "'new_risk' (score)" in message
    assert "'risk'" not in message.split("not found")[0]


def test_duplicated_ids():
    message = error_of(frame(encounter_id=["E1", "E1", "E3", "E3", "E5"]))
    assert "column 'encounter_id' (id) has 2 duplicated values in 4 rows" in message
    assert "'E1'" in message


def test_non_numeric_score():
    message = error_of(frame(risk=["0.1", "high", "0.3", "0.6", "0.2"]))
    assert "column 'risk' (score) must be numeric" in message and "'high'" in message


def test_file_errors_name_the_file(tmp_path):
    assert "no such file" in error_of(tmp_path / "nope.csv")
    (tmp_path / "data.xlsx").write_text("x")
    assert "data.xlsx: unsupported file type '.xlsx'" in error_of(tmp_path / "data.xlsx")


def test_non_probability_score_is_valid_input():
    data = Dataset(frame(), Roles(target="y", score=["risk", "lactate"]))
    assert data.is_probability("risk") and not data.is_probability("lactate")


def test_boolean_target_is_accepted():
    data = Dataset(frame(y=[False, True, False, True, False]), ROLES)
    np.testing.assert_array_equal(data.y, [0, 1, 0, 1, 0])


def test_fingerprint_changes_with_a_value_and_not_with_index():
    base = Dataset(frame(), ROLES).fingerprint
    assert Dataset(frame().set_axis(list("abcde")), ROLES).fingerprint == base
    assert Dataset(frame(risk=[0.1, 0.8, 0.3, 0.6, 0.21]), ROLES).fingerprint != base


def test_roles_refuse_contradictions():
    with pytest.raises(ValueError, match="both the target and a score"):
        Roles(target="y", score="y")
    with pytest.raises(ValueError, match="repeated"):
        Roles(target="y", score=["a", "a"])
    assert Roles(target="y", score="a").columns() == ["y", "a"]
