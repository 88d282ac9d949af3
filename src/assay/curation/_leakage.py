"""Leakage between splits, and the report of every leakage check.

Two checks on the splits, each returning a frozen finding that names the columns, the counts and
a plain sentence:

- :func:`patients_across_splits`: the same patient in more than one split;
- :func:`rows_across_splits`: the same row content (ids left out) in more than one split.

:func:`check_leakage` runs those and the checks on the features (recorded after the prediction,
or taken from the outcome) that the given arguments allow.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from assay.curation._feature_leakage import (
    FeatureAfterPrediction,
    TargetLeak,
    _need_columns,
    features_after_prediction,
    target_leakage,
)
from assay.errors import InputError

ID_COLUMNS = ("patient_id", "encounter_id")
"""Columns left out of the row hash by default: they differ between copies of the same row."""


class SplitOverlap(BaseModel):
    """What two splits share: patients or row contents."""

    model_config = ConfigDict(frozen=True)

    first: str
    second: str
    count: int


class PatientsAcrossSplits(BaseModel):
    """Patients whose rows fall in more than one split."""

    model_config = ConfigDict(frozen=True)

    column: str
    n_patients: int
    """Distinct patients found in two or more splits."""
    pairs: tuple[SplitOverlap, ...]
    """Every pair of splits, in the order the splits were given, with the patients they share."""
    example_patient_ids: tuple[str, ...]
    """Up to ten of the shared patients, in sorted order, to look them up."""
    message: str


class RowsAcrossSplits(BaseModel):
    """Row contents (ids left out) present in more than one split."""

    model_config = ConfigDict(frozen=True)

    columns: tuple[str, ...]
    """The columns hashed."""
    n_rows: int
    """Distinct row contents found in two or more splits."""
    pairs: tuple[SplitOverlap, ...]
    message: str


class LeakageReport(BaseModel):
    """Everything :func:`check_leakage` found."""

    model_config = ConfigDict(frozen=True)

    patients: PatientsAcrossSplits | None
    rows: RowsAcrossSplits | None
    features_after_prediction: tuple[FeatureAfterPrediction, ...]
    target_leaks: tuple[TargetLeak, ...]

    @property
    def has_findings(self) -> bool:
        """Whether any check found leakage."""
        return bool(
            (self.patients is not None and self.patients.n_patients)
            or (self.rows is not None and self.rows.n_rows)
            or self.features_after_prediction
            or self.target_leaks
        )

    def messages(self) -> list[str]:
        """The sentences of every finding, one per line of a report."""
        found: list[str] = []
        if self.patients is not None and self.patients.n_patients:
            found.append(self.patients.message)
        if self.rows is not None and self.rows.n_rows:
            found.append(self.rows.message)
        found += [finding.message for finding in self.features_after_prediction]
        found += [finding.message for finding in self.target_leaks]
        return found


def _check_splits(splits: Mapping[str, pd.DataFrame]) -> None:
    if len(splits) < 2:
        raise InputError(f"give at least two splits to compare (got {len(splits)})")


def _pairs_sentence(pairs: Sequence[SplitOverlap]) -> str:
    shared = [pair for pair in pairs if pair.count]
    return "; ".join(f"{pair.count} in both '{pair.first}' and '{pair.second}'" for pair in shared)


def patients_across_splits(
    splits: Mapping[str, pd.DataFrame], patient_id: str = "patient_id"
) -> PatientsAcrossSplits:
    """Patients present in more than one split, with the count for each pair of splits.

    Parameters
    ----------
    splits
        Split name to its rows, e.g. ``{"train": ..., "test": ...}``.
    patient_id
        Column identifying the patient.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"patient_id": ["P1", "P2", "P3"]})
    >>> test = pd.DataFrame({"patient_id": ["P3", "P4"]})
    >>> patients_across_splits({"train": train, "test": test}).message
    "1 patient (column 'patient_id') appears in more than one split: 1 in both 'train' and 'test'."
    """
    _check_splits(splits)
    ids: dict[str, set[Any]] = {}
    for name, frame in splits.items():
        _need_columns(frame, [patient_id], f"split '{name}'")
        ids[name] = set(frame[patient_id].dropna().unique())
    pairs = tuple(
        SplitOverlap(first=a, second=b, count=len(ids[a] & ids[b]))
        for a, b in itertools.combinations(ids, 2)
    )
    shared: set[Any] = set()
    for a, b in itertools.combinations(ids, 2):
        shared |= ids[a] & ids[b]
    n = len(shared)
    if n:
        noun = "patient" if n == 1 else "patients"
        verb = "appears" if n == 1 else "appear"
        message = (f"{n} {noun} (column '{patient_id}') {verb} in more than one split: "
                   f"{_pairs_sentence(pairs)}.")
    else:
        message = f"No patient (column '{patient_id}') appears in more than one split."
    return PatientsAcrossSplits(
        column=patient_id,
        n_patients=n,
        pairs=pairs,
        example_patient_ids=tuple(str(value) for value in sorted(shared, key=str)[:10]),
        message=message,
    )


def rows_across_splits(
    splits: Mapping[str, pd.DataFrame],
    columns: Sequence[str] | None = None,
    *,
    id_columns: Sequence[str] = ID_COLUMNS,
) -> RowsAcrossSplits:
    """Row contents present in more than one split, by a hash of the feature columns.

    Each row is hashed with :func:`pandas.util.hash_pandas_object` over ``columns`` (values and
    dtypes both count: ``1`` and ``1.0`` hash differently). A pair's count is the number of
    distinct row contents found in both splits.

    Parameters
    ----------
    splits
        Split name to its rows.
    columns
        Columns to hash; default: the columns every split has, less ``id_columns``.
    id_columns
        Left out of the default ``columns``.
    """
    _check_splits(splits)
    if columns is None:
        frames = list(splits.values())
        common = [name for name in frames[0].columns if all(name in f.columns for f in frames)]
        columns = [name for name in common if name not in set(id_columns)]
    columns = list(columns)
    if not columns:
        raise InputError("no column left to hash: the splits share only id columns")
    hashes: dict[str, set[int]] = {}
    for name, frame in splits.items():
        _need_columns(frame, columns, f"split '{name}'")
        row_hashes = pd.util.hash_pandas_object(frame[columns], index=False)
        hashes[name] = set(row_hashes.to_numpy().tolist())
    pairs = tuple(
        SplitOverlap(first=a, second=b, count=len(hashes[a] & hashes[b]))
        for a, b in itertools.combinations(hashes, 2)
    )
    shared: set[int] = set()
    for a, b in itertools.combinations(hashes, 2):
        shared |= hashes[a] & hashes[b]
    n = len(shared)
    if n:
        noun = "row" if n == 1 else "rows"
        message = (f"{n} distinct {noun} (hashed over {len(columns)} columns, ids left out) "
                   f"occur in more than one split: {_pairs_sentence(pairs)}.")
    else:
        message = f"No row (hashed over {len(columns)} columns) occurs in more than one split."
    return RowsAcrossSplits(columns=tuple(columns), n_rows=n, pairs=pairs, message=message)


def check_leakage(
    splits: Mapping[str, pd.DataFrame],
    *,
    patient_id: str | None = "patient_id",
    id_columns: Sequence[str] = ID_COLUMNS,
    target: str | None = None,
    features: Sequence[str] | None = None,
    prediction_time: str | None = None,
    feature_times: Mapping[str, str] | None = None,
    auroc_threshold: float = 0.95,
) -> LeakageReport:
    """Run every leakage check the arguments allow.

    Patients across splits (when ``patient_id`` is given) and rows across splits always; the
    features after prediction on all splits' rows together (when ``prediction_time`` and
    ``feature_times`` are given); target leakage on the first split, normally the training rows
    (when ``target`` is given; ``features`` defaults to every column but the target and the id
    and time columns named here).
    """
    _check_splits(splits)
    patients = None if patient_id is None else patients_across_splits(splits, patient_id)
    rows = rows_across_splits(splits, id_columns=id_columns)
    late: tuple[FeatureAfterPrediction, ...] = ()
    if prediction_time is not None and feature_times:
        late = features_after_prediction(
            pd.concat(list(splits.values()), ignore_index=True), prediction_time, feature_times
        )
    leaks: tuple[TargetLeak, ...] = ()
    if target is not None:
        first = next(iter(splits.values()))
        if features is None:
            named = [patient_id, prediction_time, *(feature_times or {}).values()]
            skip = {target, *id_columns, *(name for name in named if name is not None)}
            features = [name for name in first.columns if name not in skip]
        leaks = target_leakage(first, target, features, auroc_threshold=auroc_threshold)
    return LeakageReport(patients=patients, rows=rows, features_after_prediction=late,
                         target_leaks=leaks)
